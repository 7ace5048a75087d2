import Foundation
import KuraCore
import KuraServerTestSupport
import KuraTestSupport
import Testing

/// Tag lookups cached on each node (ManifestResolutionCache) and dropped on every node
/// through the catalog's change feed.
extension ClusterTests {
    @Test("A tag moved through node 1 is served with its new digest by node 3, which had it cached; deleted through node 1, it is 404 on node 3")
    func aTagMovedOrDeletedOnOneNodeIsSeenOnAnother() async throws {
        try await Self.withCluster { cluster, _ in
            let root = cluster.root
            let node1 = cluster.nodeURL(0), node3 = cluster.nodeURL(2)
            let first = try await Self.pushImage(node1, root: root, repository: "team/app", tag: "latest", seed: 1)
            #expect(first.acknowledged)
            // Node 3 answers from its cache once it has read the tag (the push's notification,
            // arriving after a first read, may drop it once).
            try await Poll.until("node 3 answers from its cache", timeout: .seconds(10)) {
                let before = try await Self.cacheAnswers(cluster, node: 2)
                #expect(try await Self.manifestDigest(at: node3, root: root) == sha256(first.manifest))
                return try await Self.cacheAnswers(cluster, node: 2) > before ? true : nil
            }

            // Moved through node 1: node 1 serves the new digest at once, node 3 when the
            // notification arrives.
            let second = try await Self.pushImage(node1, root: root, repository: "team/app", tag: "latest", seed: 2)
            #expect(second.acknowledged)
            #expect(try await Self.manifestDigest(at: node1, root: root) == sha256(second.manifest))
            var reads = 0
            let moved = try await Self.timeUntil("node 3 serves the moved tag") {
                reads += 1
                return try await Self.manifestDigest(at: node3, root: root) == sha256(second.manifest)
            }
            print("cluster: node 3 served the tag moved through node 1 after \(moved) (\(reads) reads)")

            // Deleted through node 1: 404 there at once, on node 3 when the notification arrives,
            // and through the balancer whichever node answers.
            #expect(try await Self.manifestDigest(at: node3, root: root) == sha256(second.manifest))
            let deleted = try await ClusterHTTP.send(.DELETE, node1 + "/v2/team/app/manifests/latest", key: root)
            #expect(deleted.status == 202, "\(deleted.status) \(deleted.text)")
            #expect(try await Self.manifestStatus(at: node1, root: root) == 404)
            reads = 0
            let gone = try await Self.timeUntil("node 3 answers 404 for the deleted tag") {
                reads += 1
                return try await Self.manifestStatus(at: node3, root: root) == 404
            }
            print("cluster: node 3 answered 404 for the tag deleted through node 1 after \(gone) (\(reads) reads)")
            for _ in 0..<3 { #expect(try await Self.manifestStatus(at: cluster.url, root: root) == 404) }
        }
    }

    /// The digest `team/app:latest` has at `base` (`nil` when it is not found).
    static func manifestDigest(at base: String, root: TestKey) async throws -> Digest? {
        let reply = try await ClusterHTTP.send(
            .GET, base + "/v2/team/app/manifests/latest", key: root, headers: [("Accept", "application/vnd.oci.image.manifest.v1+json")])
        guard reply.status == 200 else { return nil }
        return sha256(reply.body)
    }

    static func manifestStatus(at base: String, root: TestKey) async throws -> Int {
        try await ClusterHTTP.send(
            .GET, base + "/v2/team/app/manifests/latest", key: root, headers: [("Accept", "application/vnd.oci.image.manifest.v1+json")]
        ).status
    }

    /// How many manifest lookups node `index` answered from its cache, from its Prometheus
    /// metrics (`kura_manifest_lookups_total{source="cache"}`).
    static func cacheAnswers(_ cluster: LocalCluster, node index: Int) async throws -> Double {
        let metrics = try await ClusterHTTP.send(.GET, "http://127.0.0.1:\(cluster.nodes[index].metricsPort)/metrics")
        for line in metrics.text.split(separator: "\n") where line.hasPrefix("kura_manifest_lookups_total{") && line.contains("source=\"cache\"") {
            return Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }
}
