import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraServerTestSupport
import NIOCore
import Testing

/// Every admin operation that takes a JSON body reads exactly the fields its schema in the
/// OpenAPI document names, with their types, required fields and enums: an example with
/// every documented field is accepted, and each departure from the schema — derived from the
/// document, field by field — is a 400 that changes nothing.
@Suite struct AdminAPIRequestBodyTests {
    struct Operation: Sendable, CustomTestStringConvertible {
        var method: String
        var documentedPath: String
        var path: String
        /// Every documented field, with a value the server accepts.
        var example: String
        var testDescription: String { "\(method) \(documentedPath)" }
    }

    static let operations: [Operation] = [
        .init(method: "post", documentedPath: "/namespaces", path: "namespaces", example: #"{"name":"fresh","public":true}"#),
        .init(method: "patch", documentedPath: "/namespaces/{name}", path: "namespaces/team", example: #"{"public":false}"#),
        .init(method: "post", documentedPath: "/accounts", path: "accounts", example: #"{"name":"newcomer","admin":false}"#),
        .init(method: "patch", documentedPath: "/accounts/{name}", path: "accounts/ci", example: #"{"disabled":false}"#),
        .init(method: "patch", documentedPath: "/keys/{id}", path: "keys/KEY", example: #"{"status":"active"}"#),
        .init(method: "put", documentedPath: "/accounts/{name}/grants/{namespace}", path: "accounts/ci/grants/team", example: #"{"role":"viewer"}"#),
        .init(method: "put", documentedPath: "/repositories/{repository}/description", path: "repositories/team/app/description",
              example: ##"{"short":"an app","full":"# App\nIt runs."}"##),
        .init(method: "put", documentedPath: "/namespaces/{name}/quota", path: "namespaces/team/quota", example: #"{"maxBytes":1000000}"#),
        .init(method: "post", documentedPath: "/namespaces/{name}/webhooks", path: "namespaces/team/webhooks",
              example: #"{"url":"http://127.0.0.1:9/hook","secret":"s3cret","events":["push","delete"]}"#),
        .init(method: "put", documentedPath: "/replication/rules/{name}", path: "replication/rules/nightly",
              example: #"""
                  {"direction":"pull","namespace":"team","remote":"http://127.0.0.1:9","remoteNamespace":"upstream",
                   "remoteUsername":"u","remotePassword":"p","localUsername":"lu","localPassword":"lp","tags":"v*",
                   "intervalSeconds":3600,"onPush":false}
                  """#),
        .init(method: "put", documentedPath: "/namespaces/{name}/scan-policy", path: "namespaces/team/scan-policy",
              example: #"{"minimumSeverity":"HIGH","allowList":["CVE-2024-0001"]}"#),
    ]

    /// A value of another JSON type than `type`.
    static func wrongValue(for type: String) -> Any {
        switch type {
        case "string": 7
        case "integer": "seven"
        case "boolean": "yes"
        case "array": 3
        default: [1]
        }
    }

    static func encode(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func everyDocumentedBodyIsCoveredHere() throws {
        let paths = try #require(try AdminAPIDocument.load()["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, item) in paths {
            for (method, operation) in item where (operation as? [String: Any])?["requestBody"] != nil { documented.insert("\(method) \(path)") }
        }
        #expect(documented == Set(Self.operations.map { "\($0.method) \($0.documentedPath)" }))
    }

    @Test(arguments: operations)
    func bodiesAreReadAsDocumented(_ operation: Operation) async throws {
        let document = try AdminAPIDocument.load()
        let schema = try Self.requestSchema(operation, in: document)
        let properties = try #require(schema["properties"] as? [String: [String: Any]])
        let required = schema["required"] as? [String] ?? []
        let example = try #require(try JSONSerialization.jsonObject(with: Data(operation.example.utf8)) as? [String: Any])
        #expect(Set(example.keys) == Set(properties.keys), "the example names every documented field, no other")

        var refused: [(String, String)] = [("an undocumented field", try Self.encode(example.merging(["undocumentedField": 1]) { a, _ in a }))]
        for (name, property) in properties.sorted(by: { $0.key < $1.key }) {
            let type = property["type"] as? String ?? "object"
            var wrong = example
            wrong[name] = Self.wrongValue(for: type)
            refused.append(("\(name) of the wrong type", try Self.encode(wrong)))
            if property["enum"] != nil || (property["items"] as? [String: Any])?["enum"] != nil {
                var outside = example
                outside[name] = type == "array" ? ["not-a-documented-value"] : "not-a-documented-value"
                refused.append(("\(name) outside its enum", try Self.encode(outside)))
            }
        }
        for name in required {
            var missing = example
            missing[name] = nil
            refused.append(("without \(name)", try Self.encode(missing)))
        }
        refused.append(("not an object", "[]"))
        let refusals = refused

        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, mode: .router) { client, _, root in
                try await client.makeNamespace("team", root: root)
                let ci = try await client.makeAccount("ci", root: root, grants: [("team", "manager")])
                let config = testBytes(100, seed: 5)
                try await client.v2(.post, "team/app/blobs/uploads/?digest=\(sha256(config))", as: root, body: config).expectStatus(.created)
                try await client.v2(
                    .put, "team/app/manifests/v1", as: root, headers: [.contentType: "application/vnd.oci.image.manifest.v1+json"],
                    body: TestManifests.image(config: config, layers: [])
                ).expectStatus(.created)
                let path = operation.path.replacingOccurrences(of: "KEY", with: ci.id)
                let method = HTTPRequest.Method(operation.method.uppercased())!
                let auditBefore = try await client.admin(.get, "audit?limit=1000", as: root).jsonArray?.count
                for (what, body) in refusals {
                    let response = try await client.admin(method, path, as: root, json: body)
                    #expect(response.status == .badRequest, "\(operation.testDescription), \(what): \(response.status) \(String(buffer: response.body))")
                    #expect(response.errorCode != nil || response.json?["error"] != nil, "\(what): an error body")
                }
                let auditAfter = try await client.admin(.get, "audit?limit=1000", as: root).jsonArray?.count
                #expect(auditBefore != nil && auditBefore == auditAfter, "refused bodies change nothing")
                let accepted = try await client.admin(method, path, as: root, json: operation.example)
                #expect((200..<300).contains(accepted.status.code), "\(operation.testDescription): \(accepted.status) \(String(buffer: accepted.body))")
            }
        }
    }

    static func requestSchema(_ operation: Operation, in document: [String: Any]) throws -> [String: Any] {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let item = try #require(paths[operation.documentedPath]?[operation.method] as? [String: Any])
        let body = try #require(item["requestBody"] as? [String: Any])
        let content = try #require(body["content"] as? [String: Any])
        let json = try #require(content["application/json"] as? [String: Any])
        let schema = try #require(json["schema"] as? [String: Any])
        let reference = try #require(schema["$ref"] as? String)
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        return try #require(schemas[String(reference.split(separator: "/").last!)] as? [String: Any])
    }
}
