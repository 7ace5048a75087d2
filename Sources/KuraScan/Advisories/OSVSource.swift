import Foundation
import ZIPFoundation

/// The OSV documents at a path the operator brings: a folder (searched recursively for
/// `*.json`), a `.zip` as OSV publishes per ecosystem (`all.zip`), or one `.json` file.
/// Documents are handed out one at a time so a large archive is never held in memory.
struct OSVSource {
    /// An OSV record is a few kilobytes; anything far larger is not one (or is a zip bomb).
    static let maximumDocumentSize = 16 << 20

    let url: URL

    /// Calls `body` with each document's name and bytes, in a stable order.
    func forEachDocument(_ body: (String, Data) throws -> Void) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw AdvisoryImportError.unreadableSource(path: url.path, reason: "no such file or folder")
        }
        if isDirectory.boolValue {
            try forEachFileInFolder(body)
        } else if url.pathExtension.lowercased() == "zip" {
            try forEachZipEntry(body)
        } else {
            try body(url.lastPathComponent, try read(url))
        }
    }

    private func forEachFileInFolder(_ body: (String, Data) throws -> Void) throws {
        guard let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw AdvisoryImportError.unreadableSource(path: url.path, reason: "the folder cannot be listed")
        }
        var files: [URL] = []
        for case let file as URL in enumerator where file.pathExtension.lowercased() == "json" {
            files.append(file)
        }
        for file in files.sorted(by: { $0.path < $1.path }) {
            try body(String(file.path.dropFirst(url.path.count + 1)), try read(file))
        }
    }

    private func read(_ file: URL) throws -> Data {
        let size = (try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
        guard size <= Self.maximumDocumentSize else {
            throw AdvisoryImportError.invalidDocument(name: file.lastPathComponent, reason: "\(size) bytes is larger than any OSV record")
        }
        do {
            return try Data(contentsOf: file)
        } catch {
            throw AdvisoryImportError.unreadableSource(path: file.path, reason: "\(error)")
        }
    }

    private func forEachZipEntry(_ body: (String, Data) throws -> Void) throws {
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read, pathEncoding: nil)
        } catch {
            throw AdvisoryImportError.unreadableSource(path: url.path, reason: "not a readable zip archive (\(error))")
        }
        for entry in archive where entry.type == .file && entry.path.lowercased().hasSuffix(".json") {
            guard entry.uncompressedSize <= UInt64(Self.maximumDocumentSize) else {
                throw AdvisoryImportError.invalidDocument(name: entry.path, reason: "\(entry.uncompressedSize) bytes is larger than any OSV record")
            }
            var data = Data()
            do {
                // The CRC is checked, so a damaged archive fails here rather than importing garbage.
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    data.append(chunk)
                    if data.count > Self.maximumDocumentSize { throw AdvisoryImportError.invalidDocument(name: entry.path, reason: "larger than it declares") }
                }
            } catch let error as AdvisoryImportError {
                throw error
            } catch {
                throw AdvisoryImportError.invalidDocument(name: entry.path, reason: "cannot be extracted from \(url.lastPathComponent) (\(error))")
            }
            try body(entry.path, data)
        }
    }
}

/// Why an import failed. An import that fails changes nothing in the database.
public enum AdvisoryImportError: Error, Equatable, CustomStringConvertible {
    case unreadableSource(path: String, reason: String)
    case invalidDocument(name: String, reason: String)

    public var description: String {
        switch self {
        case .unreadableSource(let path, let reason): "cannot read advisories from \(path): \(reason)"
        case .invalidDocument(let name, let reason): "\(name) is not a valid OSV record: \(reason)"
        }
    }
}
