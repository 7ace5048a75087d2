import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KuraCore
@testable import KuraHTTP
@testable import KuraServe
import KuraServerTestSupport
import Logging
import NIOCore
import Testing

/// The admin API and its OpenAPI document (`docs/admin-api.openapi.json`, served at
/// `/api/v1/openapi.json`) agree: every route is documented, every documented operation is
/// routed, and answers have the documented shape.
@Suite struct AdminAPIDocumentTests {
    /// `METHOD /api/v1/path` of every documented operation (a path's `x-kura-route` names
    /// the router pattern that serves it when the two differ).
    static func documentedRoutes() throws -> Set<String> {
        let paths = try #require(try AdminAPIDocument.load()["paths"] as? [String: [String: Any]])
        var routes = Set<String>()
        for (path, item) in paths {
            let route = item["x-kura-route"] as? String ?? "/api/v1\(path)"
            for method in ["get", "put", "post", "patch", "delete"] where item[method] != nil { routes.insert("\(method.uppercased()) \(route)") }
        }
        return routes
    }

    @Test func everyRouteIsDocumentedAndEveryOperationRouted() async throws {
        try await withTemporaryDirectory { dir in
            var logger = Logger(label: "kura-test")
            logger.logLevel = .critical
            let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, dataDirectory: dir, access: .init(enabled: true), gc: .init(enabled: false))
            let services = try await KuraServer.open(configuration, logger: logger)
            defer { services.close() }
            let listener = ListenerConfiguration(name: "admin", host: "127.0.0.1", port: 0, apis: [.admin])
            var components = ListenerRouter.Components(
                registry: services.registry, access: services.access, usage: services.usage, proxy: nil, replicator: services.replicator,
                observer: RequestObserver(metrics: nil, meter: nil, accessLog: nil), rateLimiter: nil, webhooks: nil)
            components.scanning = services.scanning?.service
            let router = ListenerRouter.make(for: listener, components)
            let routed = Set(router.routes.map { "\($0.method) \($0.path)" }.filter { $0.contains(" /api/v1/") })
            let documented = try Self.documentedRoutes()
            #expect(routed.subtracting(documented).isEmpty, "routes missing from the document: \(routed.subtracting(documented).sorted())")
            #expect(documented.subtracting(routed).isEmpty, "documented but not routed: \(documented.subtracting(routed).sorted())")
            #expect(routed.count >= 30)
        }
    }

    @Test func theServedDocumentIsTheOneInDocs() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, mode: .router) { client, _, _ in
                let served = try await client.execute(uri: "/api/v1/openapi.json", method: .get)
                #expect(served.status == .ok && served.headers[.contentType] == "application/json")
                #expect(Array(served.body.readableBytesView) == Array(try Data(contentsOf: URL(fileURLWithPath: AdminAPIDocument.path))))
            }
        }
    }

    /// Answers of the read operations, with data in every list, match their schemas
    /// (properties, required ones, no undocumented ones, JSON types).
    @Test func answersHaveTheDocumentedShape() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, mode: .router) { client, _, root in
                let validator = SchemaCheck(document: try AdminAPIDocument.load())
                try await client.makeNamespace("team", root: root)
                _ = try await client.makeAccount("ci", root: root, grants: [("team", "manager")])
                #expect(try await client.admin(.put, "namespaces/team/quota", as: root, json: "{\"maxBytes\":1000000}").status == .ok)
                #expect(try await client.admin(.post, "namespaces/team/webhooks", as: root, json: "{\"url\":\"http://127.0.0.1:9/h\",\"secret\":\"s\"}").status == .created)
                // A description needs a repository that exists.
                let config = testBytes(100, seed: 71)
                try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(config))", as: root, body: config).expectStatus(.created)
                try await client.v2(
                    .put, "team/app/manifests/v1", as: root, headers: [.contentType: MediaType.ociManifest],
                    body: TestManifests.image(config: config, layers: [])
                ).expectStatus(.created)
                #expect(try await client.admin(.put, "repositories/team/app/description", as: root, json: "{\"short\":\"an app\"}").status == .ok)
                let reads: [(String, String, String)] = [
                    ("whoami", "/whoami", "get"), ("namespaces", "/namespaces", "get"), ("accounts", "/accounts", "get"),
                    ("accounts/ci/keys", "/accounts/{name}/keys", "get"), ("accounts/ci/grants", "/accounts/{name}/grants", "get"),
                    ("namespaces/team/quota", "/namespaces/{name}/quota", "get"), ("namespaces/team/webhooks", "/namespaces/{name}/webhooks", "get"),
                    ("repositories/team/app/description", "/repositories/{repository}/description", "get"), ("audit", "/audit", "get"),
                    ("usage", "/usage", "get"), ("jobs", "/jobs", "get"), ("replication/rules", "/replication/rules", "get"),
                ]
                for (uri, path, method) in reads {
                    let response = try await client.admin(.get, uri, as: root)
                    #expect(response.status == .ok, "\(uri): \(response.status)")
                    let schema = try validator.responseSchema(path: path, method: method, status: "200")
                    let value = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView), options: [.fragmentsAllowed])
                    let problems = validator.problems(value, against: schema, at: uri)
                    #expect(problems.isEmpty, "\(problems)")
                }
                // An error answer has the documented error shape.
                let missing = try await client.admin(.get, "accounts/nobody/keys", as: root)
                #expect(missing.status == .notFound)
                let errorSchema: [String: Any] = ["$ref": "#/components/schemas/Error"]
                let problems = validator.problems(try JSONSerialization.jsonObject(with: Data(missing.body.readableBytesView)), against: errorSchema, at: "error")
                #expect(problems.isEmpty, "\(problems)")
            }
        }
    }
}
