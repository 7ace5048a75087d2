import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraServerTestSupport
import KuraStorage
import KuraTestSupport
import Logging
import Testing

/// `kura gc` and `kura retention run` on the command line audit what they delete, as the
/// server's scheduled runs do: the registry the command opens has the audit sink registered.
@Suite("Jobs on the command line: audit")
struct JobCommandAuditTests {
    @Test func gcAndRetentionOnTheCommandLineAuditTheirDeletions() async throws {
        try await withTemporaryDirectory { scratch in
            let folder = DataFolder("\(scratch)/data")
            try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
            let catalog = try SQLiteMetadataStore(path: folder.catalog)
            let registry = Registry(
                blobs: BlobStore(backend: try FileSystemBackend(root: folder.storage)), catalog: Catalog(catalog), logger: Logger(label: "test"))
            let old = try await pushTestImage(registry, "team/app", tag: "old", seed: "old")
            await Poll.nextMillisecond()  // distinct push times
            try await pushTestImage(registry, "team/app", tag: "new", seed: "new")
            let loose = try await pushTestImage(registry, "team/app", tag: nil, seed: "loose")
            try await catalog.setRetentionPolicy(RetentionPolicy(scope: "team", keepLast: 1))

            let retention = try await runKura(["retention", "run", "--data", folder.path, "--json"], scratch: scratch)
            #expect(retention.status == 0, "\(retention.stderr)")
            let untagged = try await catalog.auditEvents(AuditQuery(action: "retention.tag.delete"))
            #expect(untagged.map(\.detail) == ["old \(old) policy team"])

            let gc = try await runKura(
                ["gc", "--data", folder.path, "--grace", "0s", "--delete-untagged", "--untagged-age", "0s", "--json"], scratch: scratch)
            #expect(gc.status == 0, "\(gc.stderr)")
            let collected = try await catalog.auditEvents(AuditQuery(action: "gc.manifest.delete"))
            #expect(collected.map(\.detail) == ["\(loose) untagged"], "audited: \(collected.map(\.detail))")
            #expect(collected.first?.account == nil)
        }
    }
}
