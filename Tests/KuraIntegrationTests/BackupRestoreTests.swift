import Foundation
import KuraCore
import KuraServerTestSupport
import Testing

/// `kura backup` while pushes run, `kura restore` into a new data folder: every tag pulls
/// and scrub is clean; a backup missing a blob is refused with the list of what is missing.
@Suite("Backup and restore", .serialized)
struct BackupRestoreTests {
    typealias Server = ServeProcessTests.Server
    static let open = ["KURA_ACCESS_ENABLED": "false"]

    /// Pushes six images, then backs up (with storage) while more pushes run; returns the
    /// images acknowledged before the backup started and all acknowledged images.
    static func backUpDuringPushes(data: String, backup: String, scratch: String) async throws -> (before: [ImagePusher.Pushed], all: [ImagePusher.Pushed]) {
        let server = try Server(data: data, environment: open)
        try await server.waitUntilServing()
        let pusher = ImagePusher(base: "http://127.0.0.1:\(server.port)")
        var before: [ImagePusher.Pushed] = []
        for index in 0..<6 { before.append(try await pusher.push("team/app\(index % 2)", tag: "v\(index)", seed: UInt64(index))) }
        let during = Task {
            var pushed: [ImagePusher.Pushed] = []
            for index in 6..<30 { pushed.append(try await pusher.push("team/app\(index % 2)", tag: "v\(index)", seed: UInt64(index))) }
            return pushed
        }
        let result = try await runKura(["backup", "--data", data, "--to", backup, "--storage", "--json"], scratch: scratch)
        let concurrent = try await during.value
        _ = await server.stop()
        guard result.status == 0 else { throw TestFailure("kura backup failed: \(result.stderr)") }
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let blobs = summary?["blobs"] as? Int ?? 0
        print("backup: \(blobs) blobs, catalog \(summary?["catalogBytes"] ?? 0) B -> \(summary?["compressedBytes"] ?? 0) B LZ4, \(summary?["seconds"] ?? 0) s")
        #expect(blobs >= 6 * 3, "the backup references at least the images pushed before it")
        return (before, before + concurrent)
    }

    @Test func backupWhilePushingRestoresIntoANewFolder() async throws {
        try await withTemporaryDirectory { scratch in
            let (before, all) = try await Self.backUpDuringPushes(data: "\(scratch)/data", backup: "\(scratch)/backup", scratch: scratch)
            let restored = "\(scratch)/restored"
            let restore = try await runKura(["restore", "--from", "\(scratch)/backup", "--data", restored, "--json"], scratch: scratch)
            #expect(restore.status == 0, "\(restore.stderr) \(restore.stdout)")

            let server = try Server(data: restored, environment: Self.open)
            try await server.waitUntilServing()
            let pusher = ImagePusher(base: "http://127.0.0.1:\(server.port)")
            for image in before { try await pusher.verify(image) }
            // Every tag the restored catalog holds pulls whole (pushes during the backup may or may not be in it).
            let byTag = Dictionary(all.map { ("\($0.repository):\($0.tag)", $0) }, uniquingKeysWith: { first, _ in first })
            var tags = 0
            for repository in ["team/app0", "team/app1"] {
                for tag in try await pusher.tags(repository) {
                    let image = try #require(byTag["\(repository):\(tag)"])
                    try await pusher.verify(image)
                    tags += 1
                }
            }
            #expect(tags >= before.count)
            _ = await server.stop()
            let scrub = try await runKura(["scrub", "--data", restored, "--json"], scratch: scratch)
            #expect(scrub.status == 0, "scrub: \(scrub.stdout)")
        }
    }

    @Test func restoreRefusesWhenABlobIsMissing() async throws {
        try await withTemporaryDirectory { scratch in
            let (before, _) = try await Self.backUpDuringPushes(data: "\(scratch)/data", backup: "\(scratch)/backup", scratch: scratch)
            let lost = before[0].blobs[1]
            let path = "\(scratch)/backup/storage/blobs/sha256/\(lost.encoded.prefix(2))/\(lost.encoded)"
            try FileManager.default.removeItem(atPath: path)
            let restored = "\(scratch)/restored"
            let restore = try await runKura(["restore", "--from", "\(scratch)/backup", "--data", restored], scratch: scratch)
            #expect(restore.status == 1)
            #expect(restore.stderr.contains("\(lost) missing"), "\(restore.stderr)")
            #expect(restore.stderr.contains("1 referenced blob(s)"), "exactly the one blob is listed: \(restore.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(restored)/catalog.sqlite"), "nothing was swapped in")
        }
    }
}
