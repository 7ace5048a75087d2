public import Foundation
public import KuraMetadata

extension AccessAdmin {
    /// A namespace's storage quota and what it stores now.
    public struct QuotaStatus: Sendable, Encodable {
        public var namespace: String
        public var maxBytes: Int64?
        public var physicalBytes: Int64
    }

    private var usageStore: any UsageStore { registry.catalog.usage }

    private var quotaStore: any QuotaStore { registry.catalog.quotas }

    /// Usage of one namespace (its managers may read it) or of all (root or an account
    /// admin only). Without `includeStorage` the report's stored bytes are left out (empty):
    /// they are the figure now, a scan of the namespace, the same for every period asked.
    public func usage(_ caller: Caller, _ query: UsageQuery, includeStorage: Bool = true) async throws -> UsageReport {
        guard query.from < query.to else { throw AdminError.invalid("from must be before to") }
        if let namespace = query.namespace {
            try Self.validateNamespace(namespace)
            try requireManager(caller, of: namespace)
        } else {
            try requireAdmin(caller)
        }
        return try await UsageReport.make(from: usageStore, query, includeStorage: includeStorage)
    }

    /// A namespace's daily samples of its stored bytes, of the days starting in `[from, to)`;
    /// its managers may read them.
    public func storageHistory(_ caller: Caller, namespace: String, from: Date, to: Date) async throws -> [StorageSample] {
        try Self.validateNamespace(namespace)
        try requireManager(caller, of: namespace)
        return try await usageStore.storageSamples(namespace: namespace, from: from, to: to)
    }

    /// Sets or removes (`nil`) a namespace's storage quota; root or an account admin only.
    public func setQuota(_ caller: Caller, namespace: String, maxBytes: Int64?) async throws {
        try Self.validateNamespace(namespace)
        try requireAdmin(caller)
        if let maxBytes, maxBytes < 0 { throw AdminError.invalid("maxBytes must not be negative") }
        guard try await store.namespace(named: namespace) != nil else { throw AdminError.notFound("namespace \(namespace) does not exist") }
        try await quotaStore.setQuota(namespace: namespace, maxBytes: maxBytes)
        await audit(caller, "namespace.quota", namespace: namespace, detail: maxBytes.map { "\($0) bytes" } ?? "none")
    }

    /// A namespace's quota and stored bytes; its managers may read them.
    public func quota(_ caller: Caller, namespace: String) async throws -> QuotaStatus {
        try Self.validateNamespace(namespace)
        try requireManager(caller, of: namespace)
        guard try await store.namespace(named: namespace) != nil else { throw AdminError.notFound("namespace \(namespace) does not exist") }
        let quotas = quotaStore
        return QuotaStatus(
            namespace: namespace, maxBytes: try await quotas.quota(namespace: namespace),
            physicalBytes: try await quotas.physicalBytes(namespace: namespace, including: nil))
    }
}
