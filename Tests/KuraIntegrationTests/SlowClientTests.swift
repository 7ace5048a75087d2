import AsyncHTTPClient
import Foundation
import KuraCore
import KuraHTTP
import KuraServe
import KuraServerTestSupport
import KuraStorage
import KuraTestSupport
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Slow and stalled clients: half-sent request heads, idle keep-alive connections, stalled
/// bodies and one address opening too many connections never starve other clients, and are
/// closed after the configured times.
@Suite("Slow clients")
struct SlowClientTests {
    static func configuration(_ data: String, _ connections: ConnectionSettings) -> ServerConfiguration {
        var configuration = ServerConfiguration(dataDirectory: data, access: .init(enabled: false), gc: .init(enabled: false))
        configuration.listeners = [ListenerConfiguration(name: "main", host: "127.0.0.1", port: 0)]
        configuration.connections = connections
        return configuration
    }

    /// Latencies (seconds) of `count` requests, each on a fresh connection as a load balancer's
    /// health check or a new client would make them.
    static func latencies(port: Int, count: Int) async throws -> [Double] {
        var result: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<count {
            let start = clock.now
            let answer = try await rawHTTPExchange(
                from: "127.0.0.1", to: "127.0.0.1", port: port, request: "GET /v2/ HTTP/1.1\r\nHost: kura\r\nConnection: close\r\n\r\n")
            guard answer.hasPrefix("HTTP/1.1 200") else { throw TestFailure("a normal request got: \(answer.prefix(200))") }
            let elapsed = clock.now - start
            result.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return result
    }

    /// `count` connections from 127.0.0.2–5 that each send half a request line and stop.
    static func openHalfSentRequests(_ count: Int, port: Int) async throws -> [RawSocket] {
        try await offPool {
            try (0..<count).map { index in
                let socket = try RawSocket(from: "127.0.0.\(2 + index % 4)", to: "127.0.0.1", port: port)
                socket.send("GET /v2/ HTTP/1.1\r\nHost: kura\r\nUser-Agent: slow")  // never finished
                return socket
            }
        }
    }

    static func percentile99(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
    }

    @Test
    func thousandHalfSentRequestsDoNotStopOtherClientsAndAreClosed() async throws {
        try RawSocket.raiseOpenFileLimit(to: 4096)
        let headTimeout = 8
        try await withTemporaryDirectory { data in
            // 250 from each of four addresses: under the per-address cap, so the timeouts are what ends them.
            let settings = ConnectionSettings(requestHeadTimeout: .seconds(headTimeout), maxPerAddress: 600)
            try await withListeners(Self.configuration(data, settings)) { ports, _, _ in
                let port = try #require(ports["main"])
                _ = try await Self.latencies(port: port, count: 20)  // warm up
                // Idle and under attack in alternating blocks, so both see the same background
                // load of this shared machine; the last attack stays open for the timeout check.
                var idle: [Double] = []
                var underAttack: [Double] = []
                var attackers: [RawSocket] = []
                var opened = ContinuousClock.now
                for round in 0..<3 {
                    idle += try await Self.latencies(port: port, count: 200)
                    opened = ContinuousClock.now
                    attackers = try await Self.openHalfSentRequests(1000, port: port)
                    _ = try await Self.latencies(port: port, count: 30)  // the accept burst itself is not what is measured
                    underAttack += try await Self.latencies(port: port, count: 200)
                    if round < 2 {
                        attackers.forEach { shutdown($0.fd, Int32(SHUT_RDWR)) }
                        attackers = []
                        try await Task.sleep(for: .milliseconds(500))  // let the server take the closes before the idle block
                    }
                }
                let stillOpen = attackers.filter { !$0.isClosedByPeer }.count
                let measuredWithin = ContinuousClock.now - opened
                let (p99Idle, p99Attack) = (Self.percentile99(idle), Self.percentile99(underAttack))
                let median = { (values: [Double]) in values.sorted()[values.count / 2] * 1000 }
                print(
                    "slow clients: p99 idle \(p99Idle * 1000) ms (median \(median(idle))), with 1000 half-sent requests open "
                        + "\(p99Attack * 1000) ms (median \(median(underAttack))), 600 requests each")
                if measuredWithin < .seconds(headTimeout) {
                    #expect(stillOpen == 1000, "half-sent requests were closed before their timeout")
                }
                #expect(p99Attack <= 2 * p99Idle, "p99 \(p99Attack * 1000) ms under attack, \(p99Idle * 1000) ms idle")
                // Every one is closed once the head timeout has passed.
                var closed = 0
                while ContinuousClock.now - opened < .seconds(headTimeout + 20) {
                    closed = attackers.filter(\.isClosedByPeer).count
                    if closed == attackers.count { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                let closedAfter = ContinuousClock.now - opened
                print("slow clients: 1000 half-sent requests closed after \(closedAfter)")
                #expect(closed == 1000, "only \(closed) of 1000 half-sent requests were closed")
                #expect(closedAfter >= .seconds(headTimeout))
            }
        }
    }

    @Test
    func idleKeepAliveConnectionIsClosedAfterItsTimeout() async throws {
        try await withTemporaryDirectory { data in
            let settings = ConnectionSettings(idleTimeout: .seconds(2))
            try await withListeners(Self.configuration(data, settings)) { ports, _, _ in
                let port = try #require(ports["main"])
                let clock = ContinuousClock()
                let start = clock.now
                // Keep-alive: the server answers, then closes once the connection has idled for 2 s.
                let answer = try await rawHTTPExchange(from: "127.0.0.1", to: "127.0.0.1", port: port, request: "GET /v2/ HTTP/1.1\r\nHost: kura\r\n\r\n")
                let elapsed = clock.now - start
                #expect(answer.hasPrefix("HTTP/1.1 200"))
                #expect(elapsed >= .seconds(2) && elapsed < .seconds(9), "closed after \(elapsed)")
            }
        }
    }

    @Test
    func stalledBodyIsClosedAndItsSessionKeepsAcknowledgedBytes() async throws {
        try await withTemporaryDirectory { data in
            let settings = ConnectionSettings(bodyTimeout: .seconds(2))
            try await withListeners(Self.configuration(data, settings)) { ports, _, _ in
                let port = try #require(ports["main"])
                let base = "http://127.0.0.1:\(port)"
                let location = try await Self.startSessionWithFirstChunk(base)
                // From before the stalled chunk is sent: the server's timer starts when its
                // bytes arrive, and the return to this task can come a second later in a
                // loaded run (which once measured 1.03 s from after it).
                let clock = ContinuousClock()
                let start = clock.now
                let stalled = try await Self.stallSecondChunk(location, port: port)
                _ = try await offPool { stalled.readToEnd(timeout: 15) }
                let elapsed = clock.now - start
                #expect(elapsed >= .seconds(2) && elapsed < .seconds(12), "the stalled body was closed after \(elapsed)")
                let status = try await httpGet(HTTPClient.shared, base + location)
                #expect(status.status == 204)
                #expect(status.headers["Range"].first == "0-999", "acknowledged bytes kept, nothing of the stalled chunk")
            }
        }
    }

    @Test
    func stalledPatchDoesNotBlockTheRetryOnItsSession() async throws {
        try await withTemporaryDirectory { data in
            // The default body timeout (60 s) is far longer than the test waits: the retry itself frees the session.
            try await withListeners(Self.configuration(data, ConnectionSettings())) { ports, _, services in
                let port = try #require(ports["main"])
                let base = "http://127.0.0.1:\(port)"
                let location = try await Self.startSessionWithFirstChunk(base)
                let id = try #require(UploadID(location.split(separator: "/").last ?? ""))
                let stalled = try await Self.stallSecondChunk(location, port: port)
                // The stalled request holds the session and waits for the rest of its body; the
                // retry must interrupt it (sent earlier, the retry would simply go first).
                try await Poll.until("the stalled PATCH to be reading its chunk", timeout: .seconds(30)) {
                    await services.registry.blobs.isReceivingChunk(id) ? true : nil
                }
                let second = testBytes(1000, seed: 2)
                var retry = HTTPClientRequest(url: base + location)
                retry.method = .PATCH
                retry.headers.add(name: "Content-Range", value: "1000-1999")
                retry.headers.add(name: "Content-Length", value: "1000")
                retry.headers.add(name: "Content-Type", value: "application/octet-stream")
                retry.body = .bytes(ByteBuffer(bytes: second))
                let response = try await HTTPClient.shared.execute(retry, timeout: .seconds(10))
                #expect(response.status.code == 202, "the retry got \(response.status)")
                #expect(response.headers["Range"].first == "0-1999")
                // The stalled request gave way: 409, nothing of it acknowledged.
                let interrupted = try await offPool { stalled.readToEnd(timeout: 15) }
                #expect(interrupted.hasPrefix("HTTP/1.1 409"), "\(interrupted.prefix(300))")
                let whole = testBytes(1000, seed: 1) + second
                var put = HTTPClientRequest(url: base + location + "?digest=\(sha256(whole))")
                put.method = .PUT
                let committed = try await HTTPClient.shared.execute(put, timeout: .seconds(10))
                #expect(committed.status.code == 201)
                let blob = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/v2/slow/app/blobs/\(sha256(whole))"), timeout: .seconds(10))
                #expect(Array(try await blob.body.collect(upTo: 1 << 20).readableBytesView) == whole)
            }
        }
    }

    @Test
    func oneAddressCannotHoldMoreThanItsCap() async throws {
        try await withTemporaryDirectory { data in
            let settings = ConnectionSettings(maxPerAddress: 3)
            try await withListeners(Self.configuration(data, settings)) { ports, _, _ in
                let port = try #require(ports["main"])
                let held = try await offPool { try (0..<3).map { _ in try RawSocket(from: "127.0.0.1", to: "127.0.0.1", port: port) } }
                let request = "GET /v2/ HTTP/1.1\r\nHost: kura\r\nConnection: close\r\n\r\n"
                // The kernel completes the three connects before the server has accepted them: the
                // cap applies once it has (polled, bounded), not at a fixed moment.
                var refused = ""
                let deadline = ContinuousClock.now + .seconds(5)
                repeat {
                    refused = try await rawHTTPExchange(from: "127.0.0.1", to: "127.0.0.1", port: port, request: request)
                } while !refused.hasPrefix("HTTP/1.1 429") && ContinuousClock.now < deadline
                #expect(refused.hasPrefix("HTTP/1.1 429"), "\(refused)")
                #expect(refused.contains("\"code\":\"TOOMANYREQUESTS\""))
                let other = try await rawHTTPExchange(from: "127.0.0.2", to: "127.0.0.1", port: port, request: request)
                #expect(other.hasPrefix("HTTP/1.1 200"), "another address is not affected: \(other)")
                held.forEach { shutdown($0.fd, Int32(SHUT_RDWR)) }
                // Once they close, the address is admitted again (the server notices the close asynchronously).
                var again = ""
                for _ in 0..<50 {
                    again = try await rawHTTPExchange(from: "127.0.0.1", to: "127.0.0.1", port: port, request: request)
                    if again.hasPrefix("HTTP/1.1 200") { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(again.hasPrefix("HTTP/1.1 200"), "\(again)")
            }
        }
    }

    // MARK: helpers

    /// Opens an upload session in `slow/app` and sends its first 1000 bytes; the session's path.
    static func startSessionWithFirstChunk(_ base: String) async throws -> String {
        var start = HTTPClientRequest(url: base + "/v2/slow/app/blobs/uploads/")
        start.method = .POST
        let started = try await HTTPClient.shared.execute(start, timeout: .seconds(10))
        guard started.status.code == 202, let absolute = started.headers["Location"].first, let location = URL(string: absolute)?.path else {
            throw TestFailure("POST answered \(started.status)")
        }
        var chunk = HTTPClientRequest(url: base + location)
        chunk.method = .PATCH
        chunk.headers.add(name: "Content-Range", value: "0-999")
        chunk.headers.add(name: "Content-Type", value: "application/octet-stream")
        chunk.body = .bytes(ByteBuffer(bytes: testBytes(1000, seed: 1)))
        let patched = try await HTTPClient.shared.execute(chunk, timeout: .seconds(10))
        guard patched.status.code == 202 else { throw TestFailure("first chunk answered \(patched.status)") }
        return location
    }

    /// PATCHes the session's second chunk (1000 bytes declared) but sends only 100 of them.
    static func stallSecondChunk(_ location: String, port: Int) async throws -> RawSocket {
        try await offPool {
            let socket = try RawSocket(from: "127.0.0.1", to: "127.0.0.1", port: port)
            socket.send(
                "PATCH \(location) HTTP/1.1\r\nHost: kura\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Range: 1000-1999\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "x", count: 100))
            return socket
        }
    }
}
