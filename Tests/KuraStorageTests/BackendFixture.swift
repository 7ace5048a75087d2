import Foundation
import KuraStorage
import KuraTestSupport
import Testing

/// A way to make a fresh, empty backend for one test. The contract suite runs every test
/// once per fixture, so a new backend joins the suite by adding a fixture here.
struct BackendFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () async throws -> (backend: any ObjectBackend, cleanup: @Sendable () async -> Void)

    var testDescription: String { name }

    /// Runs `body` with a fresh backend and removes it afterwards.
    func with<T>(_ body: (any ObjectBackend) async throws -> T) async throws -> T {
        let (backend, cleanup) = try await make()
        do {
            let result = try await body(backend)
            await cleanup()
            return result
        } catch {
            await cleanup()
            throw error
        }
    }

    static let filesystem = BackendFixture(name: "filesystem") {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kura-fs-\(UUID().uuidString)").path
        let backend = try FileSystemBackend(root: path)
        return (backend, { try? FileManager.default.removeItem(atPath: path) })
    }

/// A tiered backend over a filesystem "remote", with a cache small enough to evict.
    static let tieredOverFilesystem = BackendFixture(name: "tiered") {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("kura-tiered-\(UUID().uuidString)").path
        let remote = try FileSystemBackend(root: "\(base)/remote")
        let backend = try await TieredBackend(remote: remote, cacheDirectory: "\(base)/cache", maxBytes: 64 << 10)
        return (backend, { try? FileManager.default.removeItem(atPath: base) })
    }

    /// A fresh bucket on the shared SeaweedFS (see ``SeaweedFS``), under a key prefix so the
    /// prefix handling is exercised too. Fails (does not skip) when `weed` is missing.
    static let s3 = BackendFixture(name: "s3") {
        let (backend, _) = try await SeaweedFS.makeBackend(prefix: "kura-test")
        return (backend, {})
    }

    /// The cache tier in front of S3, as a deployment would run it.
    static let tieredOverS3 = BackendFixture(name: "tiered over s3") {
        let (remote, _) = try await SeaweedFS.makeBackend(prefix: "kura-tiered")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kura-tiered-s3-\(UUID().uuidString)").path
        let backend = try await TieredBackend(remote: remote, cacheDirectory: cache, maxBytes: 64 << 10)
        return (backend, { try? FileManager.default.removeItem(atPath: cache) })
    }

    static let all: [BackendFixture] = [.filesystem, .tieredOverFilesystem, .s3, .tieredOverS3]
}
