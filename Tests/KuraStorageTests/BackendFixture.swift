import Foundation
import KuraStorage
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

    static let all: [BackendFixture] = [.filesystem, .tieredOverFilesystem]
}
