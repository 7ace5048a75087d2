import HTTPTypes
package import Metrics
import Synchronization

/// The request metrics of the HTTP server, by route pattern, method and status: a request
/// counter, a latency histogram, and bytes in and out. Metric objects are cached per label
/// set, so a request costs a dictionary lookup, not a registry lookup.
package final class HTTPMetrics: Sendable {
    private struct Labels: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private struct Instruments {
        var requests: Counter
        var duration: Timer
        var bytesIn: Counter
        var bytesOut: Counter
    }

    private let factory: any MetricsFactory
    private let cache = Mutex<[Labels: Instruments]>([:])

    package init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(route: String, method: HTTPRequest.Method, status: Int, nanoseconds: UInt64, bytesIn: Int64, bytesOut: Int64) {
        let labels = Labels(route: route, method: method.rawValue, status: status)
        let instruments = cache.withLock { cache in
            if let found = cache[labels] { return found }
            let dimensions = [("route", route), ("method", labels.method), ("status", String(status))]
            let made = Instruments(
                requests: Counter(label: "kura_http_requests_total", dimensions: dimensions, factory: factory),
                duration: Timer(label: "kura_http_request_duration_seconds", dimensions: dimensions, factory: factory),
                bytesIn: Counter(label: "kura_http_request_bytes_total", dimensions: dimensions, factory: factory),
                bytesOut: Counter(label: "kura_http_response_bytes_total", dimensions: dimensions, factory: factory))
            cache[labels] = made
            return made
        }
        instruments.requests.increment()
        instruments.duration.recordNanoseconds(Int64(clamping: nanoseconds))
        if bytesIn > 0 { instruments.bytesIn.increment(by: bytesIn) }
        if bytesOut > 0 { instruments.bytesOut.increment(by: bytesOut) }
    }
}
