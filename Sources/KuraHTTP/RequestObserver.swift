import Foundation
package import Hummingbird
package import KuraRegistry
import NIOCore

/// Reports every request once its response is written: request metrics by route pattern,
/// usage for metered `/v2/` requests, and an access log line. Handlers add what only they
/// know (the caller, the route, the usage kind) through ``RequestObservation/current``.
package struct RequestObserver: RouterMiddleware {
    package typealias Context = KuraRequestContext

    let metrics: HTTPMetrics?
    let meter: UsageMeter?
    let accessLog: AccessLog?

    package init(metrics: HTTPMetrics?, meter: UsageMeter?, accessLog: AccessLog?) {
        self.metrics = metrics
        self.meter = meter
        self.accessLog = accessLog
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let observation = RequestObservation()
        var request = request
        let declaredLength = request.headers.declaredContentLength
        if declaredLength == nil, request.method == .put || request.method == .post || request.method == .patch {
            request.body = RequestBody(asyncSequence: CountingBody(base: request.body, observation: observation))
        }
        do {
            var response = try await RequestObservation.$current.withValue(observation) { try await next(request, context) }
            let status = Int(response.status.code)
            let observed = request
            // What was written, not what was declared: a client that leaves mid-download is
            // counted for the bytes it was sent.
            response.body = response.body.countingWrites(into: observation) {
                let bytesOut = observed.method == .head ? 0 : observation.snapshot.countedBytesOut
                report(observed, context, observation, status: status, start: start, declaredLength: declaredLength, bytesOut: bytesOut)
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            report(request, context, observation, status: Int(status), start: start, declaredLength: declaredLength, bytesOut: 0)
            throw error
        }
    }

    private func report(
        _ request: Request, _ context: Context, _ observation: RequestObservation, status: Int, start: UInt64, declaredLength: Int64?,
        bytesOut: Int64
    ) {
        let nanoseconds = DispatchTime.now().uptimeNanoseconds - start
        let facts = observation.snapshot
        let bytesIn = declaredLength ?? facts.countedBytesIn
        let route = facts.route ?? context.endpointPath ?? "unmatched"
        metrics?.record(route: route, method: request.method, status: status, nanoseconds: nanoseconds, bytesIn: bytesIn, bytesOut: bytesOut)
        if let meter, let usage = facts.usage {
            // Every authorised call counts; bytes count only for a successful transfer.
            let succeeded = (200..<300).contains(status)
            meter.record(
                namespace: usage.namespace, repository: usage.repository, accessKeyID: facts.accessKeyID ?? "", kind: usage.kind,
                counts: .init(calls: 1, bytesIn: succeeded ? bytesIn : 0, bytesOut: succeeded ? bytesOut : 0))
        }
        logRequest(request, context, facts, route: route, status: status, bytesIn: bytesIn, bytesOut: bytesOut, nanoseconds: nanoseconds)
        accessLog?.log(
            AccessLog.Entry(
                time: Date(), requestID: context.id, account: facts.account, accessKeyID: facts.accessKeyID, method: request.method.rawValue,
                route: route, path: request.uri.path, status: status, bytesIn: bytesIn, bytesOut: bytesOut,
                durationMs: Double(nanoseconds) / 1_000_000, remoteAddress: context.sourceAddress))
    }
}

/// A request body that counts its bytes into the observation as they stream through.
struct CountingBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let observation: RequestObservation

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let observation: RequestObservation

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            let count = Int64(buffer.readableBytes)
            observation.update { $0.countedBytesIn += count }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), observation: observation)
    }
}

extension ResponseBody {
    /// This body, counting the bytes it writes into `observation` and calling `done` once it
    /// is written (or its writing failed, e.g. because the client went away).
    func countingWrites(into observation: RequestObservation, then done: @escaping @Sendable () -> Void) -> ResponseBody {
        let body = self
        return ResponseBody(contentLength: body.contentLength) { writer in
            do {
                try await body.write(CountingResponseBodyWriter(base: writer, observation: observation))
                done()
            } catch {
                done()
                throw error
            }
        }
    }
}

/// Counts the bytes of each write the connection accepted. A write returns once NIO has taken
/// the buffer (with backpressure), so when a client disconnects the count can exceed what it
/// received by what sat in the channel's and the kernel's send buffers at that moment (a few
/// MiB on loopback), but never by the rest of the body.
struct CountingResponseBodyWriter: ResponseBodyWriter, SentAsideCounting {
    var base: any ResponseBodyWriter
    let observation: RequestObservation

    func countSentAside(_ bytes: Int64) {
        observation.update { $0.countedBytesOut += bytes }
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        let count = Int64(buffer.readableBytes)
        try await base.write(buffer)
        observation.update { $0.countedBytesOut += count }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await base.finish(trailingHeaders)
    }
}

/// A response body writer that counts bytes sent to the connection without passing through
/// it (a file the kernel sent, ``ResponseBody/sendingFile(_:orStreaming:on:)``).
protocol SentAsideCounting {
    func countSentAside(_ bytes: Int64)
}
