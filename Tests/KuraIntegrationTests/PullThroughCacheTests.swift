import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraCore
import KuraHTTP
import KuraMirror
import KuraRegistry
import KuraServerTestSupport
import NIOCore
import Testing

/// A proxy namespace in a real Kura server, in front of a real upstream (another Kura, or a
/// scripted registry that is slow or lies).
@Suite("pull-through cache")
struct PullThroughCacheTests {
    func proxy(_ port: Int, ttl: Duration = .seconds(300)) throws -> ProxyNamespace {
        ProxyNamespace(namespace: "hub", upstream: try RegistryEndpoint(parsing: "http://127.0.0.1:\(port)"), tagTTL: ttl)
    }

    /// Waits until the proxy has stored `reference` (caching runs in the background).
    func waitUntilCached(_ registry: Registry, _ reference: String, in repository: String) async throws {
        let name = try RepositoryName(parsing: repository)
        let parsed = try Reference(parsing: reference)
        for _ in 0..<200 {
            if (try? await registry.manifestRecord(parsed, in: name)) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("\(repository):\(reference) was not cached within 10 s")
    }

    func blobBytes(_ client: any TestClientProtocol, _ repository: String, _ digest: Digest) async throws -> [UInt8]? {
        let response = try await client.execute(uri: "/v2/\(repository)/blobs/\(digest)", method: .get)
        return response.status == .ok ? response.bytes : nil
    }

    @Test
    func aPullThroughAnEmptyProxyIsByteIdenticalAndCachedTagsSurviveAnUpstreamOutage() async throws {
        try await withTemporaryDirectory { proxyData in
            let (images, upstreamPort) = try await withTemporaryDirectory { upstreamData in
                try await withLiveServer(dataDirectory: upstreamData) { upstream in
                    let images = try await MirrorSourceImages.push(to: upstream, repository: "team/app")
                    let port = try #require(upstream.port)
                    try await withLiveServer(dataDirectory: proxyData, access: .init(enabled: false), proxies: [try proxy(port)]) { client, services in
                        for (tag, (bytes, _)) in images.tagged {
                            #expect(try await client.manifestBytes("hub/team/app", tag) == bytes, "\(tag) through the proxy")
                        }
                        for (digest, (bytes, _)) in images.untagged {
                            #expect(try await client.manifestBytes("hub/team/app", digest.description) == bytes)
                        }
                        for digest in images.blobs {
                            let bytes = try #require(try await blobBytes(client, "hub/team/app", digest))
                            #expect(sha256(bytes) == digest)
                        }
                        for tag in MirrorSourceImages.tags { try await waitUntilCached(services.registry, tag, in: "hub/team/app") }
                    }
                    return (images, port)
                }
            }
            // The upstream is gone; the tag TTL is zero, so every pull asks it first, and the
            // cached copy answers when it cannot.
            try await withLiveServer(dataDirectory: proxyData, access: .init(enabled: false), proxies: [try proxy(upstreamPort, ttl: .zero)]) { client, _ in
                for (tag, (bytes, _)) in images.tagged {
                    #expect(try await client.manifestBytes("hub/team/app", tag) == bytes, "\(tag) from the cache")
                }
                let layer = try #require(images.blobs.last)
                #expect(try await blobBytes(client, "hub/team/app", layer).map(sha256) == layer)
                #expect(try await client.manifestBytes("hub/team/other", "1.0.0") == nil, "what was never cached is unknown")
            }
        }
    }

    @Test
    func aCachedTagIsTrustedForItsTTLThenFollowsTheUpstream() async throws {
        try await withTemporaryDirectory { upstreamData in
            try await withLiveServer(dataDirectory: upstreamData) { upstream in
                let images = try await MirrorSourceImages.push(to: upstream, repository: "team/app")
                let port = try #require(upstream.port)
                let (first, _) = try #require(images.tagged["1.0.0"])
                let (moved, movedType) = try #require(images.tagged["1.1.0"])
                try await withTemporaryDirectory { slowData in
                    try await withTemporaryDirectory { eagerData in
                        try await withLiveServer(dataDirectory: slowData, access: .init(enabled: false), proxies: [try proxy(port)]) { slow, slowServices in
                            try await withLiveServer(dataDirectory: eagerData, access: .init(enabled: false), proxies: [try proxy(port, ttl: .zero)]) { eager, eagerServices in
                                #expect(try await slow.manifestBytes("hub/team/app", "1.0.0") == first)
                                #expect(try await eager.manifestBytes("hub/team/app", "1.0.0") == first)
                                try await waitUntilCached(slowServices.registry, "1.0.0", in: "hub/team/app")
                                try await waitUntilCached(eagerServices.registry, "1.0.0", in: "hub/team/app")
                                // The upstream moves the tag.
                                let retag = try await upstream.pushManifest(moved, mediaType: movedType, to: "team/app", reference: "1.0.0")
                                #expect(retag.status == .created)
                                #expect(try await slow.manifestBytes("hub/team/app", "1.0.0") == first, "within its TTL the cached tag answers")
                                #expect(try await eager.manifestBytes("hub/team/app", "1.0.0") == moved, "past its TTL the tag follows the upstream")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    func concurrentPullsOfOneLayerFetchItOnceAndTheFirstBytesComeBeforeTheLast() async throws {
        let upstream = FaultySourceRegistry()
        upstream.behaviour = .slow
        try await upstream.serve { port in
            try await withTemporaryDirectory { data in
                try await withLiveServer(dataDirectory: data, access: .init(enabled: false), proxies: [try proxy(port)]) { client, services in
                    let proxyPort = try #require(client.port)
                    let digest = sha256(upstream.layer)
                    let earliest = try await withThrowingTaskGroup(of: ([UInt8], ContinuousClock.Instant?).self) { group in
                        for _ in 0..<8 {
                            group.addTask {
                                let response = try await HTTPClient.shared.execute(
                                    HTTPClientRequest(url: "http://127.0.0.1:\(proxyPort)/v2/hub/bad/app/blobs/\(digest)"), timeout: .seconds(60))
                                #expect(response.status == .ok)
                                var bytes: [UInt8] = []
                                var first: ContinuousClock.Instant?
                                for try await buffer in response.body {
                                    if first == nil { first = .now }
                                    bytes += buffer.readableBytesView
                                }
                                return (bytes, first)
                            }
                        }
                        var earliest: ContinuousClock.Instant?
                        for try await (bytes, first) in group {
                            #expect(bytes == upstream.layer)
                            if let first { earliest = Swift.min(earliest ?? first, first) }
                        }
                        return earliest
                    }
                    #expect(upstream.layerRequests == 1, "eight pulls, one upstream fetch")
                    #expect(services.proxy?.upstreamBlobFetches == 1)
                    let sent = try #require(upstream.layerSent)
                    #expect(try #require(earliest) < sent, "the first client got bytes before the upstream had sent the last")
                    // Stored: a later pull is served here.
                    #expect(try await blobBytes(client, "hub/bad/app", digest) == upstream.layer)
                    #expect(upstream.layerRequests == 1)
                }
            }
        }
    }

    @Test
    func aLyingUpstreamIsRefusedAndNothingIsStored() async throws {
        let upstream = FaultySourceRegistry()
        upstream.behaviour = .lies
        try await upstream.serve { port in
            try await withTemporaryDirectory { data in
                try await withLiveServer(dataDirectory: data, access: .init(enabled: false), proxies: [try proxy(port)]) { client, services in
                    let digest = sha256(upstream.layer)
                    let started = ContinuousClock.now
                    let response = try? await HTTPClient.shared.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(try #require(client.port))/v2/hub/bad/app/blobs/\(digest)"), timeout: .seconds(30))
                    var received: [UInt8] = []
                    if let response {
                        do {
                            for try await buffer in response.body { received += buffer.readableBytesView }
                        } catch {}
                    }
                    #expect(received.count < upstream.layer.count, "no complete body for a forged blob")
                    #expect(ContinuousClock.now - started < .seconds(20), "the body fails at once, not after a read timeout")
                    let repository = try RepositoryName(parsing: "hub/bad/app")
                    #expect(await (try? services.registry.blobInfo(digest, in: repository)) == nil, "nothing stored")
                }
            }
        }
    }
}
