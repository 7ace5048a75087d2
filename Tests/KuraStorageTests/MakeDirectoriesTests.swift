import Foundation
@testable import KuraStorage
import Testing

/// `mkdir -p` as the filesystem backend does it: from the deepest folder up, reporting what
/// it created (outermost first) so their parents can be synced.
@Suite("Making folders")
struct MakeDirectoriesTests {
    @Test func createsWhatIsMissingAndReportsItOutermostFirst() async throws {
        try await withTemporaryDirectory { root in
            let first = try POSIXFile.makeDirectories(root + "/a/b/c")
            #expect(first == [root + "/a", root + "/a/b", root + "/a/b/c"])
            let again = try POSIXFile.makeDirectories(root + "/a/b/c")
            #expect(again == [])
            let sibling = try POSIXFile.makeDirectories(root + "/a/x/y")
            #expect(sibling == [root + "/a/x", root + "/a/x/y"])
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: root + "/a/x/y", isDirectory: &isDirectory) && isDirectory.boolValue)
        }
    }

    @Test func aFileInTheWayIsAnError() async throws {
        try await withTemporaryDirectory { root in
            #expect(FileManager.default.createFile(atPath: root + "/file", contents: Data("x".utf8)))
            #expect(throws: StorageError.self) { _ = try POSIXFile.makeDirectories(root + "/file/sub") as [String] }
        }
    }
}
