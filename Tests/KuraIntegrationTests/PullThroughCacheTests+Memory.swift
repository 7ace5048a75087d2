import AsyncHTTPClient
import KuraCore
import KuraMirror
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import Synchronization
import Testing

/// Bytes a client has read so far, for another task to look at.
private final class ReadProgress: Sendable {
    private let bytes = Mutex(0)
    var count: Int { bytes.withLock { $0 } }
    func add(_ count: Int) { bytes.withLock { $0 += count } }
}

extension PullThroughCacheTests {
    /// Reads a whole body; after its first buffer, runs `pause` (a client that pauses).
    private func read(_ url: String, progress: ReadProgress, pause: (@Sendable () async throws -> Void)? = nil) async throws -> [UInt8] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(120))
        #expect(response.status == .ok)
        var bytes: [UInt8] = []
        var paused = false
        for try await buffer in response.body {
            bytes += buffer.readableBytesView
            progress.add(buffer.readableBytes)
            if !paused, let pause {
                paused = true
                try await pause()
            }
        }
        return bytes
    }

    @Test
    func aPausedClientPacesTheFillAndTheBufferedBytesStayWithinTheWindow() async throws {
        // Far more than loopback socket buffers hold, so the pause reaches the fill; the first
        // byte comes late, so both clients are reading the fill as it arrives.
        let upstream = FaultySourceRegistry(layerSize: 32 << 20)
        upstream.behaviour = .lateFirstByte
        let window = 512 << 10
        try await upstream.serve { port in
            try await withTemporaryDirectory { data in
                var settings = try proxy(port)
                settings.fillWindow = window
                try await withLiveServer(dataDirectory: data, access: .init(enabled: false), proxies: [settings]) { client, services in
                    let gauge = try #require(services.proxy?.fillMemory)
                    let url = "http://127.0.0.1:\(try #require(client.port))/v2/hub/bad/app/blobs/\(sha256(upstream.layer))"
                    let fast = ReadProgress()
                    let fastAfterPause = Mutex<Int?>(nil)
                    async let slowBytes = read(url, progress: ReadProgress()) {
                        try await Task.sleep(for: .seconds(3))
                        fastAfterPause.withLock { $0 = fast.count }
                    }
                    async let fastBytes = read(url, progress: fast)
                    #expect(try await slowBytes == upstream.layer)
                    #expect(try await fastBytes == upstream.layer)
                    let fastRead = try #require(fastAfterPause.withLock { $0 })
                    #expect(fastRead < upstream.layer.count, "the paused client held the fill back (the fast one had \(fastRead) bytes)")
                    #expect(fastRead > 0, "the fast client read live bytes")
                    // One arriving buffer beyond the window at most (an upstream read takes up to 1 MiB at once).
                    #expect(gauge.peak <= window + (1 << 20), "peak \(gauge.peak) bytes buffered for a \(window)-byte window")
                    #expect(gauge.peak > 0)
                    // The fill lets go of its last buffers as it finishes, just after the clients' last bytes.
                    #expect(await Self.settles(gauge), "nothing held once the fill is over (still \(gauge.current) bytes)")
                    #expect(upstream.layerRequests == 1)
                }
            }
        }
    }

    @Test
    func aClientThatStopsReadingIsCutOffAndTheOthersFinish() async throws {
        let upstream = FaultySourceRegistry(layerSize: 32 << 20)
        try await upstream.serve { port in
            try await withTemporaryDirectory { data in
                var settings = try proxy(port)
                settings.fillWindow = 256 << 10
                settings.stalledClientTimeout = .seconds(1)
                try await withLiveServer(dataDirectory: data, access: .init(enabled: false), proxies: [settings]) { client, services in
                    let digest = sha256(upstream.layer)
                    let url = "http://127.0.0.1:\(try #require(client.port))/v2/hub/bad/app/blobs/\(digest)"
                    let stalled = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(120))
                    #expect(stalled.status == .ok)
                    let started = ContinuousClock.now
                    #expect(try await read(url, progress: ReadProgress()) == upstream.layer)
                    // Without the cut-off this read never ends (the fill waits on the stalled
                    // client for good); the bound only turns that hang into a failure. Generous:
                    // a loaded full run on two cores took 82 s for these 32 MiB.
                    #expect(ContinuousClock.now - started < .seconds(240))
                    let repository = try RepositoryName(parsing: "hub/bad/app")
                    // The fill stores the blob just after the clients' last bytes (a loaded run showed the gap).
                    let stored = try? await Poll.until("the filled blob to be stored", timeout: .seconds(30)) {
                        await (try? services.registry.blobInfo(digest, in: repository))?.size
                    }
                    #expect(stored == Int64(upstream.layer.count), "stored")
                    var received = 0
                    do {
                        for try await buffer in stalled.body { received += buffer.readableBytes }
                    } catch {}
                    #expect(received < upstream.layer.count, "the stalled client got no complete body")
                    let gauge = try #require(services.proxy?.fillMemory)
                    #expect(await Self.settles(gauge), "nothing held once the fill is over (still \(gauge.current) bytes)")
                }
            }
        }
    }

    /// Whether the gauge comes back to zero within a few seconds.
    static func settles(_ gauge: FillMemoryGauge) async -> Bool {
        for _ in 0..<100 {
            if gauge.current == 0 { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return gauge.current == 0
    }
}
