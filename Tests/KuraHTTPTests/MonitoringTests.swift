import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraHTTP
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import Prometheus
import Testing

/// Request metrics scraped from the metrics listener and parsed as Prometheus text, and
/// the JSON-lines access log.
@Suite struct MonitoringTests {
    @Test func metricsCountRequestsByRoutePattern() async throws {
        let port = try SeaweedFS.freePorts(1)[0]
        let registry = PrometheusCollectorRegistry()
        let clock = ManualClock()
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, metricsRegistry: registry, configure: {
                $0.metricsListen = ("127.0.0.1", port)
                $0.usage.flushIntervalSeconds = 1
                $0.usage.gaugeIntervalSeconds = 1
            }, clock: clock) {
                client, _, root in
                try await client.makeNamespace("team", root: root)
                let config = testBytes(300, seed: 21)
                try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(config))", as: root, body: config).expectStatus(.created)
                let manifest = TestManifests.image(config: config, layers: [])
                try await client.v2(.put, "team/app/manifests/v1", as: root, headers: [.contentType: MediaType.ociManifest], body: manifest)
                    .expectStatus(.created)

                let route = "/v2/{name}/manifests/{reference}"
                let before = try await Self.scrape(port)
                let sent = 7
                for i in 0..<sent {
                    // Different repositories and references: one route pattern.
                    let path = i % 2 == 0 ? "team/app/manifests/v1" : "team/app/manifests/\(sha256(manifest))"
                    try await client.v2(.get, path, as: root).expectStatus(.ok)
                }
                try await client.v2(.get, "team/app/manifests/missing", as: root).expectStatus(.notFound)
                let after = try await Self.scrape(port)

                let ok = ["route": route, "method": "GET", "status": "200"]
                #expect(after.value("kura_http_requests_total", ok) - before.value("kura_http_requests_total", ok) == Double(sent))
                #expect(
                    after.value("kura_http_request_duration_seconds_count", ok) - before.value("kura_http_request_duration_seconds_count", ok)
                        == Double(sent))
                #expect(
                    after.value("kura_http_response_bytes_total", ok) - before.value("kura_http_response_bytes_total", ok)
                        == Double(sent * manifest.count))
                let missing = ["route": route, "method": "GET", "status": "404"]
                #expect(after.value("kura_http_requests_total", missing) - before.value("kura_http_requests_total", missing) == 1)
                // No raw path becomes a label.
                #expect(!after.samples.contains { $0.labels.values.contains { $0.contains("team/app") } })

                // The storage gauges follow within a flush interval: one open session now.
                try await client.v2(.post, "team/app/blobs/uploads/", as: root).expectStatus(.accepted)
                #expect(await clock.waitForSleepers(), "the usage flush runs on the clock")
                await clock.advanceAndSettle(by: .seconds(1))
                let gauges = try await Self.scrape(port)
                #expect(gauges.value("kura_upload_sessions_open", [:]) == 1)
                #expect(gauges.value("kura_storage_physical_bytes", ["namespace": "team"]) == Double(config.count + manifest.count))
            }
        }
    }

    @Test func accessLogWritesOneJSONLinePerRequest() async throws {
        try await withTemporaryDirectory { dir in
            let log = "\(dir)/access.log"
            let keyID = try await withMeteredServer(dataDirectory: "\(dir)/data", configure: { $0.accessLog = .init(enabled: true, path: log) }) {
                client, _, root in
                try await client.makeNamespace("team", root: root)
                let blob = testBytes(4321, seed: 31)
                try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(blob))", as: root, body: blob).expectStatus(.created)
                try await client.v2(.get, "team/app/blobs/\(sha256(blob))", as: root).expectStatus(.ok)
                return root.id
            }
            let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            let entries = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(entries.count == lines.count, "every line is a JSON object")
            let get = try #require(entries.first { $0["method"] as? String == "GET" && $0["route"] as? String == "/v2/{name}/blobs/{digest}" })
            #expect(get["status"] as? Int == 200)
            #expect(get["bytesOut"] as? Int == 4321)
            #expect(get["accessKeyID"] as? String == keyID)
            #expect(get["account"] as? String == "root")
            #expect(get["remoteAddress"] as? String == "127.0.0.1")
            #expect((get["requestID"] as? String)?.isEmpty == false)
            #expect(get["durationMs"] is Double || get["durationMs"] is Int)
            let post = try #require(entries.first { $0["method"] as? String == "POST" && ($0["route"] as? String ?? "").hasSuffix("/uploads/") })
            #expect(post["bytesIn"] as? Int == 4321)
            #expect(post["status"] as? Int == 201)
        }
    }

    static func scrape(_ port: Int) async throws -> PrometheusText {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
        guard response.status == .ok else { throw TestFailure("metrics answered \(response.status)") }
        return try PrometheusText(parsing: String(buffer: try await response.body.collect(upTo: 8 << 20)))
    }
}

/// A small parser of the Prometheus text exposition format (0.0.4): `# HELP`/`# TYPE`
/// comments, and samples `name{label="value",…} number`.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []

    init(parsing text: String) throws {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.trimmingCharacters(in: .whitespaces).isEmpty {
            samples.append(try Self.sample(Substring(line)))
        }
    }

    /// The sample with exactly these labels (plus any others) summed, 0 when absent.
    func value(_ name: String, _ labels: [String: String]) -> Double {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }.reduce(0) { $0 + $1.value }
    }

    private static func sample(_ line: Substring) throws -> Sample {
        var rest = line[...]
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "=") else { throw TestFailure("bad labels in \(line)") }
                let key = String(rest[..<equals])
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { throw TestFailure("unquoted label value in \(line)") }
                rest = rest.dropFirst()
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { throw TestFailure("unterminated label value in \(line)") }
                rest = rest.dropFirst()
                labels[key] = value
                if rest.first == "," { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard let first = fields.first, let value = Double(first) ?? (first == "+Inf" ? .infinity : nil) else {
            throw TestFailure("no value in \(line)")
        }
        return Sample(name: name, labels: labels, value: value)
    }
}
