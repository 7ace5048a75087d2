public import KuraCore

/// Who may read and start image scans and set a namespace's scan policy. The scanning
/// itself is KuraScan's; the admin API asks here first.
extension AccessAdmin {
    /// Reading a repository's scan results needs pull access to it (or an admin).
    public func authorizeScanRead(_ caller: Caller, repository: RepositoryName) async throws {
        guard try await access.canPull(caller.principal, repository) || caller.principal.isAdmin else {
            throw AdminError.denied("pull access to \(repository) is needed to read its scan results")
        }
    }

    /// Scanning a repository's image on demand needs a manager of its namespace.
    public func authorizeScan(_ caller: Caller, repository: RepositoryName) async throws {
        try requireManager(caller, of: String(repository.firstComponent))
        await audit(caller, "scan.request", namespace: String(repository.firstComponent), repository: repository.value)
    }

    /// A namespace's scan policy is read by anyone with a role in it and changed by its
    /// managers; the namespace must exist.
    public func authorizeScanPolicy(_ caller: Caller, namespace: String, change: String?) async throws {
        if change != nil {
            try requireManager(caller, of: namespace)
        } else if !(caller.principal.isAdmin || caller.principal.role(in: namespace) != nil) {
            throw AdminError.denied("a role in namespace \(namespace) is needed to read its scan policy")
        }
        guard try await store.namespace(named: namespace) != nil else { throw AdminError.notFound("no namespace \(namespace)") }
        if let change { await audit(caller, "scan.policy.\(change)", namespace: namespace) }
    }

    /// Re-matching every stored result is an operator's job.
    public func authorizeRematch(_ caller: Caller) async throws {
        try requireAdmin(caller)
        await audit(caller, "scan.rematch")
    }
}
