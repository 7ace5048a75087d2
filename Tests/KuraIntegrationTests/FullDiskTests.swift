import Foundation
import HummingbirdTesting
import KuraCore
import KuraHTTP
import KuraServe
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import Testing

/// A full disk answers 507 with a clear message, stores nothing half-way, and `/readyz`
/// says storage is full. The storage folder is a small tmpfs (mounting needs root, as the
/// test command runs): 4 MiB, so that at the start of a full run, every suite at once on two
/// cores, each request stays well inside the test client's 20 s (16 MiB once timed out).
@Suite("Full disk")
struct FullDiskTests {
    static func run(_ arguments: [String]) async throws {
        let process = try ChildProcess.spawn("/usr/bin/env", arguments, standardOutput: .inherit, standardError: .inherit)
        let ended = await process.wait()
        guard ended == .exited(0) else { throw TestFailure("\(arguments.joined(separator: " ")) \(ended) (needs root)") }
    }

    @Test func fullStorageAnswers507AndReadinessSaysFull() async throws {
        try await withTemporaryDirectory { data in
            let storage = data + "/storage"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            try await Self.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", storage])
            do {
                try await fill(data: data)
            } catch {
                try? await Self.run(["umount", "-l", storage])
                throw error
            }
            try await Self.run(["umount", "-l", storage])
        }
    }

    /// Fills the small storage through a live server and checks what the server says.
    private func fill(data: String) async throws {
        var settings = ServerConfiguration.StorageSettings()
        settings.minimumFreeBytes = 1 << 20
        try await withLiveServer(dataDirectory: data, access: .init(enabled: false), storage: settings) { client, _ in
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            try await client.pushBlob(testBytes(5 << 19, seed: 1), to: "team/app")

            let tooBig = testBytes(2 << 20, seed: 2)
            let refused = try await client.execute(
                uri: "/v2/team/app/blobs/uploads/?digest=\(sha256(tooBig))", method: .post, body: ByteBuffer(bytes: tooBig))
            #expect(refused.status.code == 507, "\(refused.status)")
            let message = String(buffer: refused.body)
            #expect(message.contains("storage is full"), "\(message)")
            #expect(try await client.execute(uri: "/v2/team/app/blobs/\(sha256(tooBig))", method: .head).status == .notFound)

            // What was stored is still served.
            #expect(try await client.execute(uri: "/v2/team/app/blobs/\(sha256(testBytes(5 << 19, seed: 1)))", method: .head).status == .ok)
            try await client.pushBlob(testBytes(3 << 18, seed: 3), to: "team/app")
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.json?["storage"] as? String == "full", "\(String(buffer: ready.body))")
        }
    }
}
