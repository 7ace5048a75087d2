import Foundation
import Hummingbird
import KuraRegistry
import KuraStorage
import NIOCore

/// `/healthz` (the process answers) and `/readyz` (the catalog and the storage answer), for
/// load balancers and orchestrators. No credentials; no data in the answers.
struct HealthEndpoints: Sendable {
    let registry: Registry
    /// Below this much free space (where the backend knows it) storage reports `full`.
    var minimumFreeBytes: Int64 = ServerConfiguration.StorageSettings.defaultMinimumFreeBytes

    func register(on router: Router<KuraRequestContext>) {
        router.get("/healthz") { _, _ in Self.json(.ok, ["status": "ok"]) }
        router.get("/readyz") { _, context in
            var checks: [String: String] = [:]
            do {
                _ = try await registry.repositories(after: nil, limit: 1)
                checks["catalog"] = "ok"
            } catch {
                context.logger.error("readiness: catalog", metadata: ["error": "\(error)"])
                checks["catalog"] = "unavailable"
            }
            do {
                try await Self.probeStorage(registry.blobs.backend)
                checks["storage"] = "ok"
                if let free = try await registry.blobs.backend.availableBytes(), free < minimumFreeBytes {
                    context.logger.critical("readiness: storage is full", metadata: ["free-bytes": "\(free)"])
                    checks["storage"] = "full"
                }
            } catch let error as StorageError where error.isOutOfSpace {
                context.logger.critical("readiness: storage is full", metadata: ["error": "\(error)"])
                checks["storage"] = "full"
            } catch {
                context.logger.error("readiness: storage", metadata: ["error": "\(error)"])
                checks["storage"] = "unavailable"
            }
            let ready = checks.values.allSatisfy { $0 == "ok" }
            checks["status"] = ready ? "ok" : "unavailable"
            return Self.json(ready ? .ok : .serviceUnavailable, checks)
        }
    }

    /// Reads a small probe object, writing it first if it is missing: a real round trip
    /// through the backend, but no write on every probe.
    static func probeStorage(_ backend: any ObjectBackend) async throws {
        let key = try ObjectKey("health/probe")
        do {
            _ = try await backend.getAll(key, limit: 1024)
        } catch StorageError.notFound {
            try await backend.put(key, bytes: ByteBuffer(string: "kura"))
            _ = try await backend.getAll(key, limit: 1024)
        }
    }

    static func json(_ status: HTTPResponse.Status, _ body: [String: String]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
