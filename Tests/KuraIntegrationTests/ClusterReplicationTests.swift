import Foundation
import KuraMetadata
import KuraMirror
import KuraServerTestSupport
import KuraTestSupport
import Logging
import Testing

/// Two replicators (two nodes' worth) over one PostgreSQL catalog, ticked by the test.
@Suite("Replication rules on nodes sharing a catalog", .serialized, .timeLimit(.minutes(2)))
struct ClusterReplicationTests {
    @Test("A rule added, changed or removed through one node reaches the other at its next re-read, and a scheduled rule runs on one node per round")
    func rulesReachEveryNodeAndRunOncePerRound() async throws {
        let (url, database) = try await PostgreSQLServer.makeDatabase()
        defer { Task { await PostgreSQLServer.dropDatabase(database) } }
        var logger = Logger(label: "kura-test")
        logger.logLevel = .critical
        let catalog = try await PostgresCatalog.open(url: url, poolSize: 4, logger: logger)
        defer { catalog.close() }
        try await withTemporaryDirectory { scratch in
            // The sealing key every node reads from the catalog's shared keys.
            let key = Data((0..<32).map { UInt8($0) })
            var replicators: [Replicator] = []
            for node in ["node1", "node2"] {
                try FileManager.default.createDirectory(atPath: "\(scratch)/\(node)", withIntermediateDirectories: true)
                replicators.append(
                    try await Replicator(
                        dataDirectory: "\(scratch)/\(node)", catalog: catalog, sealingKey: key, leases: catalog, ruleRefresh: .zero, logger: logger))
            }
            let (first, second) = (replicators[0], replicators[1])
            // Hourly; the remote is never reached (this registry's own address is not known
            // either), so every run ends at once, recorded with its error.
            var rule = ReplicationRule(
                name: "hourly", direction: .pull, namespace: "team", remote: "http://127.0.0.1:9",
                remoteCredentials: RegistryCredentials(username: "u", password: "sealed-secret"), intervalSeconds: 3600)
            try await first.put(rule)
            #expect(await second.rule("hourly") == nil, "not re-read yet")

            // Node 2's tick re-reads the rules (password unsealed with the shared key) and
            // finds the rule due: it claims the round and runs it.
            await second.tick()
            #expect(await second.rule("hourly") == rule)
            let secondRuns = try await Poll.until("node 2's run") { await second.runs().first }
            #expect(secondRuns.trigger == "schedule")
            // Node 1's round comes up in the same hour: claimed already, so no run.
            await first.tick()
            try await Poll.until("node 1's round") { await first.isIdle ? true : nil }
            #expect(await first.runs().isEmpty, "one run per round across the nodes")
            #expect(await second.runs().count == 1)

            // A change and a removal made through node 1 reach node 2 at its next re-read.
            rule.tags = "^v[0-9]+$"
            try await first.put(rule)
            await second.tick()
            #expect(await second.rule("hourly")?.tags == "^v[0-9]+$")
            #expect(try await first.remove("hourly"))
            await second.tick()
            #expect(await second.rule("hourly") == nil)
        }
    }
}
