import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraAccess
import KuraCore
import KuraHTTP
import KuraMirror
import KuraServerTestSupport
import NIOCore
import Testing

/// The mirror engine between two real Kura servers on loopback (the target with access
/// control on), and against a misbehaving source.
@Suite("mirror between registries")
struct MirrorTests {
    /// Runs a plain source server and a secured target (namespaces made on first push).
    func withSourceAndTarget(
        _ body: @Sendable (_ source: any TestClientProtocol, _ target: any TestClientProtocol, _ root: TestKey) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { sourceData in
            try await withLiveServer(dataDirectory: sourceData) { source in
                try await withSecuredServer(autoCreate: true) { target, root in
                    try await body(source, target, root)
                }
            }
        }
    }

    @Test
    func copiesEveryKindOfManifestByteForByteAndASecondRunCopiesNothing() async throws {
        try await withSourceAndTarget { source, target, root in
            let images = try await MirrorSourceImages.push(to: source, repository: "team/app")
            let mirror = Mirror(source: try source.registryClient(), target: try target.registryClient(root), options: MirrorOptions(prefix: "team/"))
            let first = try await mirror.run()
            #expect(first.failures.isEmpty, "\(first.failures)")
            #expect(first.total.manifestsCopied == 6, "3 tags, 2 index children, 1 referrer")
            #expect(first.total.blobsCopied == images.blobs.count, "every distinct blob once (the shared layer is in the list once)")
            #expect(first.total.bytesCopied > 800_000)
            for (tag, (bytes, _)) in images.tagged {
                #expect(try await target.manifestBytes("team/app", tag, headers: root.basic) == bytes, "tag \(tag) identical")
            }
            for (digest, (bytes, _)) in images.untagged {
                #expect(try await target.manifestBytes("team/app", digest.description, headers: root.basic) == bytes)
            }
            for digest in images.blobs {
                #expect(try await target.blobPresent("team/app", digest, headers: root.basic))
            }
            let referrers = try await target.execute(uri: "/v2/team/app/referrers/\(images.ociImage!)", method: .get, headers: root.basic, body: nil)
            #expect(String(buffer: referrers.body).contains(images.referrer.description), "the referrer is listed on the target")

            let second = try await mirror.run()
            #expect(second.failures.isEmpty)
            #expect(second.total.bytesCopied == 0)
            #expect(second.total.manifestsCopied == 0)
            #expect(second.total.blobsCopied == 0)
            #expect(second.total.manifestsSkipped == 4, "3 tags and the referrer seen and skipped")
        }
    }

    @Test
    func tagFiltersCopyOnlyWhatMatches() async throws {
        try await withSourceAndTarget { source, target, root in
            _ = try await MirrorSourceImages.push(to: source, repository: "team/app")
            let byRegex = Mirror(
                source: try source.registryClient(), target: try target.registryClient(root),
                options: MirrorOptions(repositories: ["team/app"], tags: try TagFilter(regex: #"1\..*"#), targetRepository: { "regex/" + $0 }))
            #expect(try await byRegex.run().failures.isEmpty)
            let bySemver = Mirror(
                source: try source.registryClient(), target: try target.registryClient(root),
                options: MirrorOptions(repositories: ["team/app"], tags: try TagFilter(semver: ">=1.1.0 <3"), targetRepository: { "semver/" + $0 }))
            #expect(try await bySemver.run().failures.isEmpty)
            #expect(try await tags(target, "regex/team/app", root) == ["1.0.0", "1.1.0"])
            #expect(try await tags(target, "semver/team/app", root) == ["1.1.0", "2.0.0"])
        }
    }

    func tags(_ client: any TestClientProtocol, _ repository: String, _ key: TestKey) async throws -> [String] {
        let response = try await client.execute(uri: "/v2/\(repository)/tags/list", method: .get, headers: key.basic, body: nil)
        return ((response.json?["tags"] as? [String]) ?? []).sorted()
    }

    @Test
    func aPlatformSubsetPushesANarrowedIndexAndOnlyItsChildren() async throws {
        try await withSourceAndTarget { source, target, root in
            let images = try await MirrorSourceImages.push(to: source, repository: "team/app")
            let mirror = Mirror(
                source: try source.registryClient(), target: try target.registryClient(root),
                options: MirrorOptions(repositories: ["team/app"], tags: try TagFilter(regex: "2.0.0"), platforms: [try PlatformSpecifier(parsing: "linux/arch1")]))
            let summary = try await mirror.run()
            #expect(summary.failures.isEmpty, "\(summary.failures)")
            let index = try #require(try await target.manifestBytes("team/app", "2.0.0", headers: root.basic))
            let entries = try #require((try JSONSerialization.jsonObject(with: Data(index)) as? [String: Any])?["manifests"] as? [[String: Any]])
            #expect(entries.map { $0["digest"] as? String } == [images.children[1].description])
            #expect(try await target.manifestBytes("team/app", images.children[1].description, headers: root.basic) != nil)
            #expect(try await target.manifestBytes("team/app", images.children[0].description, headers: root.basic) == nil)
        }
    }

    @Test
    func chunkedUploadsAndCrossRepositoryMounts() async throws {
        try await withSourceAndTarget { source, target, root in
            let images = try await MirrorSourceImages.push(to: source, repository: "team/a")
            _ = try await MirrorSourceImages.push(to: source, repository: "team/b")
            let mirror = Mirror(
                source: try source.registryClient(), target: try target.registryClient(root, chunkSize: 64 << 10),
                options: MirrorOptions(prefix: "team/", parallelism: 1))
            let summary = try await mirror.run()
            #expect(summary.failures.isEmpty, "\(summary.failures)")
            // The first repository receives the bytes (in chunks); the second mounts them.
            #expect(summary.repositories["team/a"]?.blobsCopied == images.blobs.count)
            #expect(summary.repositories["team/b"]?.blobsCopied == 0)
            #expect(summary.repositories["team/b"]?.blobsMounted == images.blobs.count)
            for digest in images.blobs {
                #expect(try await target.blobPresent("team/b", digest, headers: root.basic))
            }
            #expect(try await target.manifestBytes("team/b", "1.0.0", headers: root.basic) == images.tagged["1.0.0"]?.0)
        }
    }

    @Test
    func aDryRunCountsButWritesNothing() async throws {
        try await withSourceAndTarget { source, target, root in
            _ = try await MirrorSourceImages.push(to: source, repository: "team/app")
            let mirror = Mirror(
                source: try source.registryClient(), target: try target.registryClient(root), options: MirrorOptions(prefix: "team/", dryRun: true))
            let summary = try await mirror.run()
            #expect(summary.failures.isEmpty)
            #expect(summary.dryRun)
            #expect(summary.total.manifestsCopied == 6)
            #expect(summary.total.bytesCopied > 800_000)
            #expect(try await tags(target, "team/app", root) == [])
        }
    }

    @Test
    func aRateLimitSlowsTheCopy() async throws {
        try await withSourceAndTarget { source, target, root in
            _ = try await MirrorSourceImages.push(to: source, repository: "team/app")
            // About 0.85 MB at 0.3 MB/s with a one-second burst: about two seconds.
            let mirror = Mirror(
                source: try source.registryClient(), target: try target.registryClient(root),
                options: MirrorOptions(prefix: "team/", bytesPerSecond: 300_000))
            let summary = try await mirror.run()
            #expect(summary.failures.isEmpty)
            #expect(summary.seconds >= 1.0, "0.55 MB beyond the burst at 0.3 MB/s takes over a second, took \(summary.seconds)")
        }
    }

    // MARK: faults

    @Test
    func aSourceDyingMidLayerFailsTheRunAndTheNextRunCompletes() async throws {
        let faulty = FaultySourceRegistry()
        faulty.behaviour = .diesMidLayer
        try await faulty.serve { port in
            try await withSecuredServer(autoCreate: true) { target, root in
                let source = RegistryClient(
                    endpoint: try RegistryEndpoint(parsing: "http://127.0.0.1:\(port)"), retry: RetryPolicy(attempts: 2, baseDelay: .milliseconds(10)))
                let mirror = Mirror(source: source, target: try target.registryClient(root), options: MirrorOptions(repositories: [FaultySourceRegistry.repository]))
                let failed = try await mirror.run()
                #expect(failed.failures.count == 1, "the tag is reported as failed")
                #expect(faulty.layerRequests == 2, "tried again once, then gave up")
                #expect(try await target.manifestBytes(FaultySourceRegistry.repository, "1", headers: root.basic) == nil)
                #expect(try await !target.blobPresent(FaultySourceRegistry.repository, sha256(faulty.layer), headers: root.basic))

                faulty.behaviour = .honest
                let next = try await mirror.run()
                #expect(next.failures.isEmpty, "\(next.failures)")
                #expect(next.total.blobsCopied == 1, "the config was already there; the layer comes now")
                #expect(try await target.manifestBytes(FaultySourceRegistry.repository, "1", headers: root.basic) == faulty.manifest)
                #expect(try await target.blobPresent(FaultySourceRegistry.repository, sha256(faulty.layer), headers: root.basic))
            }
        }
    }

    @Test
    func aLyingSourceIsRefusedAndNothingIsStored() async throws {
        let faulty = FaultySourceRegistry()
        faulty.behaviour = .lies
        try await faulty.serve { port in
            try await withTemporaryDirectory { data in
                try await withLiveServer(dataDirectory: data) { target in
                    let source = RegistryClient(endpoint: try RegistryEndpoint(parsing: "http://127.0.0.1:\(port)"))
                    let mirror = Mirror(source: source, target: try target.registryClient(), options: MirrorOptions(repositories: [FaultySourceRegistry.repository]))
                    let summary = try await mirror.run()
                    #expect(summary.failures.count == 1)
                    #expect(summary.failures.first?.message.contains("digest mismatch") == true, "\(summary.failures)")
                    #expect(faulty.layerRequests == 1, "a lie is not retried")
                    #expect(try await !target.blobPresent(FaultySourceRegistry.repository, sha256(faulty.layer)))
                    #expect(try await target.manifestBytes(FaultySourceRegistry.repository, "1") == nil)
                }
            }
        }
    }
}
