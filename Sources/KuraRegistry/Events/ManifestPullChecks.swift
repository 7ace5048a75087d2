public import KuraCore
public import KuraMetadata
import Synchronization

/// Decides whether a manifest may be pulled; registered at start like event sinks (the
/// scanner's pull policy is one). A check refuses by throwing a ``RegistryError``.
public protocol ManifestPullCheck: Sendable {
    func checkPull(of record: ManifestRecord, in repository: RepositoryName) async throws
}

/// The checks every announced manifest read passes (a client's GET), in registration order.
public final class ManifestPullChecks: Sendable {
    private let checks = Mutex<[any ManifestPullCheck]>([])

    public init() {}

    public func register(_ check: any ManifestPullCheck) {
        checks.withLock { $0.append(check) }
    }

    func check(_ record: ManifestRecord, in repository: RepositoryName) async throws {
        for check in checks.withLock({ $0 }) { try await check.checkPull(of: record, in: repository) }
    }
}
