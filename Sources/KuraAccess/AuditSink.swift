public import KuraMetadata
public import Logging
public import KuraRegistry

/// Writes the audit record of each registry change: pushes and deletes by clients, and tags
/// and manifests deleted by retention and garbage collection (no account; the job is named
/// in the detail). Pulls and mounts are not audited.
public struct AuditSink: RegistryEventSink {
    private let write: @Sendable (AuditEvent) async -> Void

    public init(access: AccessControl) {
        write = { await access.audit($0) }
    }

    /// Writing straight to the catalog, for a process with no access control running (`kura gc`
    /// and `kura retention` on the command line).
    public init(store: any AccessStore, logger: Logger) {
        write = { event in
            do { try await store.appendAudit(event) } catch {
                logger.error("cannot write audit event", metadata: ["action": "\(event.action)", "error": "\(error)"])
            }
        }
    }

    public func receive(_ event: RegistryEvent) async {
        let action: String
        var detail = event.reference
        switch event.kind {
        case .manifestPush:
            action = "manifest.push"
            detail = [event.reference, event.digest?.description].compactMap { $0 }.joined(separator: " ")
        case .manifestDelete: action = "manifest.delete"
        case .tagDelete: action = "tag.delete"
        case .blobDelete:
            action = "blob.delete"
            detail = event.digest?.description
        case .retentionTagDelete:
            action = "retention.tag.delete"
            detail = [event.reference, event.digest?.description, event.detail].compactMap { $0 }.joined(separator: " ")
        case .collectedManifestDelete:
            // `gc.manifest.delete`, or `retention.manifest.delete` for the manifests a policy untagged.
            action = "\(event.job ?? "gc").manifest.delete"
            detail = [event.digest?.description, event.detail].compactMap { $0 }.joined(separator: " ")
        case .manifestPull, .blobMount, .jobRun, .scanCompleted:
            return
        }
        await write(
            AuditEvent(
                time: event.time, account: event.actor?.account, accessKeyID: event.actor?.accessKeyID,
                sourceAddress: event.actor?.sourceAddress, action: action, namespace: event.namespace, repository: event.repository?.value,
                detail: detail))
    }
}
