import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraServerTestSupport
import KuraTestSupport
import Testing

/// Scan results and scan policies on the PostgreSQL catalog: what one node stores, the
/// other reads (each node keeps only its own advisory database).
@Suite("Scans shared by two nodes on one PostgreSQL catalog", .serialized, .timeLimit(.minutes(5)))
struct PostgresNodeScanTests {
    @Test("A scan made on one node is read on the other; a scan policy set on one is read and deleted on the other")
    func scansAndPoliciesAcrossNodes() async throws {
        try await PostgresNodesTests.withTwoNodes { first, second, root, _ in
            try await first.makeNamespace("team", root: root)
            let manifest = try await first.pushConfigOnlyImage("team/app", tag: "v1", as: root)
            let path = "repositories/team/app/manifests/\(sha256(manifest))/scan"
            // Node 1 scans (the push may have queued a scan there too); node 2, which saw no
            // push and scanned nothing, reads the result from the shared catalog.
            let scanned = try await first.admin(.post, path, as: root)
            #expect(scanned.status == .ok && scanned.json?["status"] as? String == "succeeded", "\(scanned.status)")
            let read = try await second.admin(.get, path, as: root)
            #expect(read.status == .ok && read.json?["status"] as? String == "succeeded" && read.json?["packageCount"] as? Int == 0)

            let set = try await second.admin(.put, "namespaces/team/scan-policy", as: root, json: "{\"minimumSeverity\":\"HIGH\",\"allowList\":[\"CVE-1\"]}")
            #expect(set.status == .ok, "\(set.status)")
            let policy = try await first.admin(.get, "namespaces/team/scan-policy", as: root)
            #expect(policy.json?["minimumSeverity"] as? String == "HIGH" && policy.json?["allowList"] as? [String] == ["CVE-1"])
            #expect(try await first.admin(.delete, "namespaces/team/scan-policy", as: root).status == .noContent)
            #expect(try await second.admin(.get, "namespaces/team/scan-policy", as: root).status == .notFound)
        }
    }
}
