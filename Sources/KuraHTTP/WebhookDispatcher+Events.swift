import KuraMetadata
package import KuraRegistry

/// The registry events webhooks deliver: pushes, deletes (by clients, retention and garbage
/// collection; the job, if any, is named), pulls, finished garbage collections and scans.
extension WebhookDispatcher: RegistryEventSink {
    package func receive(_ event: RegistryEvent) async {
        let kind: WebhookEvent
        switch event.kind {
        case .manifestPush: kind = .push
        case .manifestDelete, .tagDelete, .retentionTagDelete, .collectedManifestDelete: kind = .delete
        case .manifestPull: kind = .pull
        // `job` subscribers have always heard of collections only.
        case .jobRun where event.job == "gc": kind = .job
        case .scanCompleted: kind = .scan
        case .jobRun, .blobDelete, .blobMount: return
        }
        emit(
            Event(
                event: kind, time: event.time, namespace: event.namespace, repository: event.repository?.value,
                reference: event.kind == .jobRun ? nil : event.reference,
                // A tag delete names the digest the tag held.
                digest: event.digest?.description, account: event.actor?.account,
                accessKeyID: event.actor?.accessKeyID, job: event.job, summary: event.summary.isEmpty ? nil : event.summary,
                detail: event.kind == .scanCompleted ? event.detail : nil))
    }
}
