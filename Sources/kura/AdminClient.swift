import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Connection options of every `kura admin` command.
struct AdminOptions: ParsableArguments {
    @Option(help: "Registry URL (KURA_URL).") var url: String?
    @Option(name: .customLong("access-key-id"), help: "Access key id (KURA_ACCESS_KEY_ID).") var accessKeyID: String?
    @Option(name: .customLong("secret-key"), help: "Secret key (KURA_SECRET_KEY).") var secretKey: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var tls: ServerTLSOptions
}

/// A small client of the admin API.
struct AdminClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let base: String
    let authorization: String
    let json: Bool
    let configuration: HTTPClient.Configuration

    init(_ options: AdminOptions) throws {
        let environment = ProcessInfo.processInfo.environment
        base = (options.url ?? environment["KURA_URL"] ?? "http://127.0.0.1:5000").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard let id = options.accessKeyID ?? environment["KURA_ACCESS_KEY_ID"],
            let secret = options.secretKey ?? environment["KURA_SECRET_KEY"]
        else {
            throw ValidationError("credentials needed: --access-key-id and --secret-key, or KURA_ACCESS_KEY_ID and KURA_SECRET_KEY")
        }
        authorization = "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
        json = options.json
        configuration = try options.tls.clientConfiguration()
    }

    /// Sends a request; returns the parsed JSON body (or nil for 204). Throws the API's message.
    func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> Any? {
        let bytes = try await raw(method, path, body: body)
        return bytes.readableBytes == 0 ? nil : try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))
    }

    /// Sends a request; returns the body as it came. Throws the API's message.
    func raw(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: "\(base)/api/v1/\(path)")
        request.method = method
        request.headers.add(name: "Authorization", value: authorization)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        }
        // A client of its own (the TLS options); shut down before it goes.
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(60))
            bytes = try await response.body.collect(upTo: 16 << 20)
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            let hint = "\(error)".contains("CERTIFICATE_VERIFY_FAILED") ? " (a self-signed certificate? pass --ca-cert FILE or set SSL_CERT_FILE)" : ""
            throw Failure(description: "cannot reach \(base): \(error)\(hint)")
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            let parsed = try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))
            let first = ((parsed as? [String: Any])?["errors"] as? [[String: Any]])?.first
            let detail = (first?["detail"] as? String).map { " (\($0))" } ?? ""
            let message = (first?["message"] as? String).map { $0 + detail }
            throw Failure(description: "\(response.status.code): \(message ?? String(buffer: bytes))")
        }
        return bytes
    }

    /// Prints a result: JSON with --json, else `human`.
    func show(_ value: Any?, human: (Any?) -> String) throws {
        if json {
            let object = value ?? [String: Any]()
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let text = human(value)
            if !text.isEmpty { print(text) }
        }
    }

    /// Rows of a list as aligned columns.
    static func table(_ value: Any?, columns: [String]) -> String {
        let rows = (value as? [[String: Any]] ?? []).map { row in columns.map { "\(row[$0].map { "\($0)" } ?? "-")" } }
        guard !rows.isEmpty else { return "(none)" }
        let all = [columns] + rows
        let widths = columns.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
            .joined(separator: "\n")
    }
}
