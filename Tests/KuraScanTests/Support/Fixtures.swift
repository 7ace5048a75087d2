import Foundation

/// Files the tests read from `Tests/KuraScanTests/Fixtures`, and scratch folders.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static let osv = root.appendingPathComponent("osv")

    /// A fresh temporary folder, removed when `body` returns.
    static func withTemporaryFolder<T>(_ body: (URL) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kura-scan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await body(folder)
    }

    /// Copies the OSV fixtures into `folder/osv` and returns that folder.
    static func copyOSV(into folder: URL) throws -> URL {
        let copy = folder.appendingPathComponent("osv")
        try FileManager.default.copyItem(at: osv, to: copy)
        return copy
    }

    /// The number of OSV fixture files.
    static var osvCount: Int {
        FileManager.default.enumerator(at: osv, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "json" }.count
    }
}
