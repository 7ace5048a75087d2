import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraMetadata
import KuraHTTP
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import Testing

/// Replication rules in a live server with access control, against another live server.
@Suite("replication rules")
struct ReplicationRuleTests {
    /// A secured local server (with its root key) and a secured remote (with its root key).
    func withLocalAndRemote(
        _ body: @Sendable (_ local: any TestClientProtocol, _ root: TestKey, _ data: String, _ remote: any TestClientProtocol, _ remoteRoot: TestKey) async throws -> Void
    ) async throws {
        try await withSecuredServer(autoCreate: true) { remote, remoteRoot in
            try await withTemporaryDirectory { data in
                try await withLiveServer(dataDirectory: data, access: .init(enabled: true, autoCreateNamespaces: true)) { local, services in
                    let credentials = try #require(services.rootCredentials)
                    try await body(local, TestKey(id: credentials.accessKeyID, secret: credentials.secretKey), data, remote, remoteRoot)
                }
            }
        }
    }

    func ruleJSON(_ fields: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
    }

    /// Polls until `check` holds. The deadline is generous: in a full run on two cores,
    /// hundreds of tests share this process, and a replication that takes 2 s alone once took
    /// over 15 s there.
    func eventually(_ what: String, _ check: () async throws -> Bool) async throws {
        try await Poll.until(what, timeout: .seconds(90), interval: .milliseconds(100)) { try await check() ? true : nil }
    }

    @Test
    func aPushRuleReplicatesANewPushWithinSecondsAndKeepsItsPasswordsSealed() async throws {
        try await withLocalAndRemote { local, root, data, remote, remoteRoot in
            let remotePort = try #require(remote.port)
            let rule = try ruleJSON([
                "direction": "push", "namespace": "team", "remote": "http://127.0.0.1:\(remotePort)", "remoteNamespace": "dr",
                "remoteUsername": remoteRoot.id, "remotePassword": remoteRoot.secret, "localUsername": root.id, "localPassword": root.secret,
                "onPush": true,
            ])
            let created = try await local.admin(.put, "replication/rules/to-dr", as: root, json: rule)
            #expect(created.status == .ok, "\(String(buffer: created.body))")
            let listed = try await local.admin(.get, "replication/rules", as: root)
            for text in [String(buffer: created.body), String(buffer: listed.body)] {
                #expect(text.contains("to-dr") && !text.contains(remoteRoot.secret) && !text.contains(root.secret), "passwords are never shown")
            }
            // At rest, in the catalog: the rule with its passwords sealed.
            let records = try await SQLiteMetadataStore(path: "\(data)/catalog.sqlite").replicationRules()
            #expect(records.map(\.name) == ["to-dr"])
            let stored = String(decoding: records.first?.document ?? [], as: UTF8.self)
            #expect(stored.contains("sealedRemotePassword"))
            #expect(!stored.contains(remoteRoot.secret) && !stored.contains(root.secret), "passwords are sealed at rest")
            let keyMode = try FileManager.default.attributesOfItem(atPath: "\(data)/secrets.key")[.posixPermissions] as? Int
            #expect(keyMode == 0o600)

            let images = try await MirrorSourceImages.push(repository: "team/app") { method, path, headers, body in
                Int(try await local.execute(uri: path, method: method, headers: headers.merging(root.basic), body: body).status.code)
            }
            // Replicated because of the push: the rule has no schedule and every run says
            // `push` (below). How soon is measured by a benchmark, not asserted here.
            try await eventually("the pushed images on the remote") {
                var all = true
                for (tag, (bytes, _)) in images.tagged where try await remote.manifestBytes("dr/app", tag, headers: remoteRoot.basic) != bytes {
                    all = false
                }
                // The referrer was pushed last, after the tags.
                guard all else { return false }
                return try await remote.manifestBytes("dr/app", images.referrer.description, headers: remoteRoot.basic) != nil
            }
            let runs = try #require(try await local.admin(.get, "replication/runs?rule=to-dr", as: root).json(array: true))
            #expect(!runs.isEmpty)
            #expect(runs.allSatisfy { $0["trigger"] as? String == "push" })
            #expect(runs.contains { (($0["counts"] as? [String: Any])?["manifestsCopied"] as? Int ?? 0) > 0 })
        }
    }

    @Test
    func aPullRuleBringsARemoteNamespaceHereOnDemandAndRecordsTheRun() async throws {
        try await withLocalAndRemote { local, root, _, remote, remoteRoot in
            let images = try await MirrorSourceImages.push(repository: "upstream/app") { method, path, headers, body in
                Int(try await remote.execute(uri: path, method: method, headers: headers.merging(remoteRoot.basic), body: body).status.code)
            }
            let rule = try ruleJSON([
                "direction": "pull", "namespace": "copy", "remote": "http://127.0.0.1:\(try #require(remote.port))", "remoteNamespace": "upstream",
                "remoteUsername": remoteRoot.id, "remotePassword": remoteRoot.secret, "localUsername": root.id, "localPassword": root.secret,
                "tags": #"1\..*"#,
            ])
            #expect(try await local.admin(.put, "replication/rules/from-upstream", as: root, json: rule).status == .ok)
            #expect(try await local.admin(.post, "replication/rules/from-upstream/run", as: root).status == .accepted)
            try await eventually("the manual run's record") {
                try await local.admin(.get, "replication/runs?rule=from-upstream", as: root).json(array: true)?.isEmpty == false
            }
            let run = try #require(try await local.admin(.get, "replication/runs?rule=from-upstream", as: root).json(array: true)?.first)
            #expect(run["trigger"] as? String == "manual")
            #expect((run["failures"] as? [Any])?.isEmpty == true, "\(run)")
            #expect(try await local.manifestBytes("copy/app", "1.0.0", headers: root.basic) == images.tagged["1.0.0"]?.0)
            #expect(try await local.manifestBytes("copy/app", "2.0.0", headers: root.basic) == nil, "the tag filter holds")
        }
    }

    @Test
    func aFailedRunIsRecordedAndRetriedUntilItSucceeds() async throws {
        try await withLocalAndRemote { local, root, _, remote, remoteRoot in
            let images = try await MirrorSourceImages.push(repository: "team/app") { method, path, headers, body in
                Int(try await local.execute(uri: path, method: method, headers: headers.merging(root.basic), body: body).status.code)
            }
            func rule(_ remoteURL: String) throws -> String {
                try ruleJSON([
                    "direction": "push", "namespace": "team", "remote": remoteURL, "remoteUsername": remoteRoot.id, "remotePassword": remoteRoot.secret,
                    "localUsername": root.id, "localPassword": root.secret,
                ])
            }
            // The remote is at a closed port first: the run fails and says so.
            #expect(try await local.admin(.put, "replication/rules/dr", as: root, json: try rule("http://127.0.0.1:1")).status == .ok)
            #expect(try await local.admin(.post, "replication/rules/dr/run", as: root).status == .accepted)
            try await eventually("the failed run's record") {
                try await local.admin(.get, "replication/runs?rule=dr", as: root).json(array: true)?.first?["error"] is String
            }
            // Fixed: the scheduled retry goes through.
            #expect(try await local.admin(.put, "replication/rules/dr", as: root, json: try rule("http://127.0.0.1:\(try #require(remote.port))")).status == .ok)
            try await eventually("a successful retry") {
                let latest = try await local.admin(.get, "replication/runs?rule=dr", as: root).json(array: true)?.first
                return latest?["trigger"] as? String == "retry" && latest?["error"] == nil && (latest?["failures"] as? [Any])?.isEmpty == true
            }
            #expect(try await remote.manifestBytes("team/app", "1.0.0", headers: remoteRoot.basic) == images.tagged["1.0.0"]?.0)
        }
    }

    @Test
    func badRulesAreRefusedAndOnlyAdminsMayTouchThem() async throws {
        try await withSecuredServer { local, root in
            let bad = try ruleJSON(["direction": "sideways", "namespace": "team", "remote": "http://127.0.0.1:1"])
            #expect(try await local.admin(.put, "replication/rules/x", as: root, json: bad).status == .badRequest)
            let badURL = try ruleJSON(["direction": "push", "namespace": "team", "remote": "ftp://example.com"])
            #expect(try await local.admin(.put, "replication/rules/x", as: root, json: badURL).status == .badRequest)
            #expect(try await local.admin(.get, "replication/rules", as: root).json(array: true)?.isEmpty == true, "nothing stored")
            let viewer = try await local.makeAccount("viewer", root: root, grants: [])
            #expect(try await local.admin(.get, "replication/rules", as: viewer).status == .forbidden)
            #expect(try await local.admin(.post, "replication/rules/none/run", as: root).status == .notFound)
        }
    }
}

extension TestResponse {
    /// The body as a JSON array of objects.
    func json(array: Bool) -> [[String: Any]]? {
        try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [[String: Any]]
    }
}
