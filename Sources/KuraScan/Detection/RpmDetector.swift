import Foundation
import GRDB

/// RHEL-family packages from the SQLite rpm database (RHEL 9, Rocky 9, Alma 9, Fedora 33+):
/// `/var/lib/rpm/rpmdb.sqlite` or `/usr/lib/sysimage/rpm/rpmdb.sqlite`, table `Packages`,
/// one header blob per package. The file is copied to a temporary file to be opened by
/// SQLite (read only) and removed at once.
public struct RpmDetector: PackageDetector {
    static let paths = ["var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"]

    public init() {}

    public func interest(in entry: TarEntry) -> FileInterest {
        Self.paths.contains(entry.path) ? .content : .none
    }

    public func packages(in files: ImageFiles, os: OperatingSystem?) -> [Package] {
        guard let file = Self.paths.lazy.compactMap({ files.resolving($0) }).first, let bytes = file.bytes else { return [] }
        let ecosystem = os?.ecosystem ?? .redHat
        let vendor = os?.id ?? "redhat"
        let headers = (try? Self.headers(in: bytes)) ?? []
        return headers.compactMap { header in
            guard let name = header[.name], let version = header[.version], let release = header[.release] else { return nil }
            let epoch = header.integer(.epoch).map { "\($0):" } ?? ""
            let evr = "\(epoch)\(version)-\(release)"
            var qualifiers = ["arch": header[.arch] ?? ""]
            if let epochValue = header.integer(.epoch) { qualifiers["epoch"] = "\(epochValue)" }
            if let os { qualifiers["distro"] = os.purlDistro }
            return Package(
                name: name, version: evr, ecosystem: ecosystem, sourceName: header.sourceName ?? name, sourceVersion: evr,
                layerIndex: file.layerIndex, path: file.path,
                purl: PackageURL.make(type: "rpm", namespace: vendor, name: name, version: "\(version)-\(release)", qualifiers: qualifiers))
        }
    }

    static func headers(in database: [UInt8]) throws -> [RpmHeader] {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("kura-rpmdb-\(UUID().uuidString).sqlite")
        try Data(database).write(to: temporary)
        defer { try? FileManager.default.removeItem(at: temporary) }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: temporary.path, configuration: configuration)
        let blobs = try queue.read { db in try Data.fetchAll(db, sql: "SELECT blob FROM Packages ORDER BY hnum") }
        return blobs.compactMap { RpmHeader(blob: Array($0)) }
    }
}
