import Foundation
import Hummingbird
import KuraRegistry
import NIOCore

/// Reports every request once its response is written: request metrics by route pattern,
/// usage for metered `/v2/` requests, and an access log line. Handlers add what only they
/// know (the caller, the route, the usage kind) through ``RequestObservation/current``.
struct RequestObserver: RouterMiddleware {
    typealias Context = KuraRequestContext

    let metrics: HTTPMetrics?
    let meter: UsageMeter?
    let accessLog: AccessLog?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let observation = RequestObservation()
        var request = request
        let declaredLength = request.headers[.contentLength].flatMap { Int64($0) }
        if declaredLength == nil, request.method == .put || request.method == .post || request.method == .patch {
            request.body = RequestBody(asyncSequence: CountingBody(base: request.body, observation: observation))
        }
        do {
            var response = try await RequestObservation.$current.withValue(observation) { try await next(request, context) }
            let status = Int(response.status.code)
            // Streamed bodies (blobs) declare their length in the header only.
            let declaredOut = response.headers[.contentLength].flatMap { Int64($0) } ?? response.body.contentLength.map(Int64.init) ?? 0
            let bytesOut = request.method == .head ? 0 : declaredOut
            let observed = request
            response.body = response.body.whenWritten {
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
    /// This body, calling `done` once it is written (or its writing failed).
    func whenWritten(_ done: @escaping @Sendable () -> Void) -> ResponseBody {
        let body = self
        return ResponseBody(contentLength: body.contentLength) { writer in
            do {
                try await body.write(writer)
                done()
            } catch {
                done()
                throw error
            }
        }
    }
}
