import Foundation
public import HTTPTypes
public import HummingbirdTesting
import KuraAccess
import KuraCore
import KuraHTTP
import KuraServe
import NIOCore

/// An access key as tests hold it.
public struct TestKey: Sendable {
    public var id: String
    public var secret: String

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    public var basic: HTTPFields { [.authorization: "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()] }
}

extension TestClientProtocol {
    /// Calls the admin API as `key` with a JSON body.
    public func admin(_ method: HTTPRequest.Method, _ path: String, as key: TestKey?, json: String? = nil) async throws -> TestResponse {
        var headers = key?.basic ?? [:]
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: "/api/v1/\(path)", method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// Creates an account with one key and the given grants (as root).
    public func makeAccount(_ name: String, root: TestKey, grants: [(String, String)]) async throws -> TestKey {
        let created = try await admin(.post, "accounts", as: root, json: "{\"name\":\"\(name)\"}")
        guard created.status == .created else { throw TestFailure("account \(name): \(created.status) \(String(buffer: created.body))") }
        for (namespace, role) in grants {
            let grant = try await admin(.put, "accounts/\(name)/grants/\(namespace)", as: root, json: "{\"role\":\"\(role)\"}")
            guard grant.status == .noContent else { throw TestFailure("grant: \(grant.status)") }
        }
        let key = try await admin(.post, "accounts/\(name)/keys", as: root)
        guard let json = key.json, let id = json["accessKeyID"] as? String, let secret = json["secretKey"] as? String else {
            throw TestFailure("key for \(name): \(key.status)")
        }
        return TestKey(id: id, secret: secret)
    }

    /// Gets a bearer token the way Docker clients do.
    public func token(_ key: TestKey?, scopes: [String], service: String = "kura") async throws -> TestResponse {
        let query = (["service=\(service)"] + scopes.map { "scope=\($0)" }).joined(separator: "&")
        return try await execute(uri: "/token?\(query)", method: .get, headers: key?.basic ?? [:])
    }
}

/// Runs a server with access control on; `body` gets the client and root's key.
public func withSecuredServer<T: Sendable>(
    mode: TestingSetup = .live, autoCreate: Bool = false, loginFailuresPerKey: Int = 10,
    _ body: @Sendable (any TestClientProtocol, TestKey) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { dir in
        let access = ServerConfiguration.AccessSettings(enabled: true, autoCreateNamespaces: autoCreate, loginFailuresPerKey: loginFailuresPerKey)
        return try await withLiveServer(dataDirectory: dir, mode: mode, access: access) { client, services in
            guard let root = services.rootCredentials else { throw TestFailure("no root credentials on first start") }
            return try await body(client, TestKey(id: root.accessKeyID, secret: root.secretKey))
        }
    }
}
