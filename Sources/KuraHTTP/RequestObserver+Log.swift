import Foundation
import Hummingbird
import Logging

extension RequestObserver {
    /// The request's line in the server log, at `info` (`notice` for a 5xx): status, method,
    /// route, path, account, access key id, bytes, duration, and for 4xx/5xx the reason the
    /// server gave (which rule, quota or limit refused it). Query strings, headers and bodies
    /// are never logged: they may carry credentials.
    func logRequest(
        _ request: Request, _ context: Context, _ facts: RequestObservation.Facts, route: String, status: Int, bytesIn: Int64, bytesOut: Int64,
        nanoseconds: UInt64
    ) {
        var metadata: Logger.Metadata = [
            "status": "\(status)", "method": "\(request.method.rawValue)", "route": "\(route)", "path": "\(request.uri.path)",
            "account": "\(facts.account ?? "-")", "keyID": "\(facts.accessKeyID ?? "-")", "bytesIn": "\(bytesIn)", "bytesOut": "\(bytesOut)",
            "durationMs": "\(String(format: "%.1f", Double(nanoseconds) / 1_000_000))",
        ]
        if let address = context.sourceAddress { metadata["remote"] = "\(address)" }
        if status >= 400 { metadata["reason"] = "\(facts.reason ?? "-")" }
        context.logger.log(level: status >= 500 ? .notice : .info, "request", metadata: metadata)
    }
}
