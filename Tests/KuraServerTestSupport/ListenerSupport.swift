public import AsyncHTTPClient
import Foundation
import KuraHTTP
public import KuraServe
import Logging
public import NIOCore
public import NIOHTTP1
public import NIOSSL
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs every listener of `configuration` in-process (one service group, as `kura serve`
/// does), hands `body` the port each listener bound (by name), and shuts everything down.
public func withListeners<T: Sendable>(
    _ configuration: ServerConfiguration, clock: (any Clock<Duration>)? = nil,
    _ body: @Sendable (_ ports: [String: Int], KuraServer.Endpoints, KuraServer.Services) async throws -> T
) async throws -> T {
    var logger = Logger(label: "kura-test")
    logger.logLevel = .critical
    var services = try await KuraServer.open(configuration, logger: logger)
    defer { services.close() }
    if let clock { services.clock = clock }
    let bound = Mutex<[String: Int]>([:])
    let endpoints = try KuraServer.makeEndpoints(configuration, services: services, logger: logger) { listener, channel in
        bound.withLock { $0[listener.name] = channel.localAddress?.port ?? -1 }
    }
    let group = ServiceGroup(configuration: .init(services: [endpoints.application], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        defer { tasks.cancelAll() }
        let expected = configuration.effectiveListeners.count
        var ports: [String: Int] = [:]
        for _ in 0..<500 {
            ports = bound.withLock { $0 }
            if ports.count == expected { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard ports.count == expected else { throw TestFailure("listeners did not start: \(ports)") }
        do {
            let value = try await body(ports, endpoints, services)
            await group.triggerGracefulShutdown()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
}

/// An HTTP/1.1 exchange over a socket bound to `source` before it connects, so the server
/// sees that address as the peer. Returns whatever the server sent until it closed (empty
/// when it closed without answering).
public func rawHTTPExchange(from source: String, to host: String, port: Int, request: String) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        // Blocking socket calls stay off the cooperative pool.
        DispatchQueue.global().async {
            continuation.resume(with: Result { try blockingExchange(from: source, to: host, port: port, request: request) })
        }
    }
}

private func blockingExchange(from source: String, to host: String, port: Int, request: String) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
    defer { close(fd) }
    // Generous: every request here ends with the server closing; only a hang waits this
    // long, and a loaded machine (a full run beside other builds) can take seconds to answer.
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    func address(_ ip: String, _ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(ip)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return address
    }
    var local = address(source, 0)
    let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard bound == 0 else { throw TestFailure("bind to \(source): errno \(errno)") }
    var remote = address(host, port)
    let connected = withUnsafePointer(to: &remote) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw TestFailure("connect to \(host):\(port): errno \(errno)") }
    let bytes = Array(request.utf8)
    // The server may already have closed: a failed send just means nothing comes back.
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }  // closed, reset or timed out
        received += buffer[0..<count]
    }
    return String(decoding: received, as: UTF8.self)
}

/// A client TLS configuration that trusts only `certificates` (PEM files).
public func tlsTrusting(_ certificates: [String]) throws -> TLSConfiguration {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .certificates(try certificates.flatMap { try NIOSSLCertificate.fromPEMFile($0) })
    return tls
}

/// Runs `body` with an HTTP client that trusts only `certificates` (PEM files), over
/// HTTP/2 when the server offers it unless `http1Only`; shuts the client down after.
public func withTLSClient<T: Sendable>(
    trusting certificates: [String], http1Only: Bool = false, _ body: (HTTPClient) async throws -> T
) async throws -> T {
    var configuration = HTTPClient.Configuration(tlsConfiguration: try tlsTrusting(certificates))
    if http1Only { configuration.httpVersion = .http1Only }
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    do {
        let value = try await body(client)
        try await client.shutdown()
        return value
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// GET `url` with optional headers; the status, headers and body text. The default deadline
/// is generous: a full run on two cores once took over 15 s to answer one GET here.
public func httpGet(
    _ client: HTTPClient, _ url: String, headers: [(String, String)] = [], method: HTTPMethod = .GET, timeout: TimeAmount = .seconds(60)
) async throws
    -> (status: Int, headers: HTTPHeaders, body: String, version: HTTPVersion)
{
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    let response = try await client.execute(request, timeout: timeout)
    let body = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), response.headers, String(buffer: body), response.version)
}

public func basicAuthorization(_ id: String, _ secret: String) -> String {
    "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()
}
