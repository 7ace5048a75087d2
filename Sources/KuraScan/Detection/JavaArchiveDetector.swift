import Foundation
import ZIPFoundation

/// Java libraries in `.jar`, `.war` and `.ear` archives, and in the archives nested in
/// them (Spring Boot's `BOOT-INF/lib`, `WEB-INF/lib`): Maven coordinates from
/// `META-INF/maven/**/pom.properties`, else from `META-INF/MANIFEST.MF`, else from the file
/// name (`log4j-core-2.14.1.jar`).
public struct JavaArchiveDetector: PackageDetector {
    static let extensions = [".jar", ".war", ".ear"]
    /// How deep archives inside archives are opened.
    static let maximumNesting = 3
    /// Bytes of one nested archive extracted into memory.
    static let maximumNestedSize = 128 << 20

    public init() {}

    public func interest(in entry: TarEntry) -> FileInterest {
        Self.isArchive(entry.path) ? .content : .none
    }

    static func isArchive(_ path: String) -> Bool {
        let lower = path.lowercased()
        return extensions.contains { lower.hasSuffix($0) }
    }

    public func packages(in files: ImageFiles, os: OperatingSystem?) -> [Package] {
        var packages: [Package] = []
        for file in ownFiles(in: files) {
            guard let bytes = file.bytes else { continue }
            Self.inspect(Data(bytes), name: file.path, depth: 0) { coordinates, location in
                packages.append(Package(
                    name: "\(coordinates.group):\(coordinates.artifact)", version: coordinates.version, ecosystem: .maven,
                    layerIndex: file.layerIndex, path: location,
                    purl: PackageURL.make(type: "maven", namespace: coordinates.group, name: coordinates.artifact, version: coordinates.version)))
            }
        }
        return packages
    }

    struct Coordinates: Equatable {
        let group: String
        let artifact: String
        let version: String
    }

    /// Reports the archive's own coordinates and those of the archives inside it.
    private static func inspect(_ data: Data, name: String, depth: Int, report: (Coordinates, String) -> Void) {
        guard ZipEndRecord.isReadable(data), let archive = try? Archive(data: data, accessMode: .read, pathEncoding: nil) else { return }
        var pomProperties: [Coordinates] = []
        var manifest: [String: String] = [:]
        var nested: [Entry] = []
        for entry in archive where entry.type == .file {
            let path = entry.path
            if path.hasPrefix("META-INF/maven/"), path.hasSuffix("/pom.properties"), let text = extractText(entry, from: archive) {
                let properties = parseProperties(text)
                if let group = properties["groupId"], let artifact = properties["artifactId"], let version = properties["version"] {
                    pomProperties.append(Coordinates(group: group, artifact: artifact, version: version))
                }
            } else if path == "META-INF/MANIFEST.MF", let text = extractText(entry, from: archive) {
                manifest = parseManifest(text)
            } else if isArchive(path), depth + 1 < maximumNesting, entry.uncompressedSize <= UInt64(maximumNestedSize) {
                nested.append(entry)
            }
        }
        if !pomProperties.isEmpty {
            for coordinates in pomProperties { report(coordinates, name) }
        } else if let coordinates = coordinatesFromManifest(manifest, fileName: name) ?? coordinatesFromFileName(name) {
            report(coordinates, name)
        }
        for entry in nested {
            var bytes = Data()
            guard (try? archive.extract(entry, skipCRC32: false) { bytes.append($0) }) != nil else { continue }
            inspect(bytes, name: name + "!/" + entry.path, depth: depth + 1, report: report)
        }
    }

    private static func extractText(_ entry: Entry, from archive: Archive) -> String? {
        guard entry.uncompressedSize <= 1 << 20 else { return nil }
        var bytes = Data()
        guard (try? archive.extract(entry, skipCRC32: false) { bytes.append($0) }) != nil else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func parseProperties(_ text: String) -> [String: String] {
        var properties: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix("!"), let equals = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            properties[trimmed[..<equals].trimmingCharacters(in: .whitespaces)] = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return properties
    }

    /// MANIFEST.MF main section; continuation lines start with one space.
    static func parseManifest(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        var lastKey: String?
        for rawLine in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            if rawLine.isEmpty { break }
            if rawLine.hasPrefix(" "), let key = lastKey {
                fields[key, default: ""] += rawLine.dropFirst()
                continue
            }
            guard let colon = rawLine.firstIndex(of: ":") else { continue }
            let key = String(rawLine[..<colon])
            fields[key] = rawLine[rawLine.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            lastKey = key
        }
        return fields
    }

    private static func coordinatesFromManifest(_ manifest: [String: String], fileName: String) -> Coordinates? {
        guard let version = manifest["Implementation-Version"] ?? manifest["Bundle-Version"] else { return nil }
        let artifact = manifest["Implementation-Title"].map { $0.lowercased().replacingOccurrences(of: " ", with: "-") }
            ?? coordinatesFromFileName(fileName)?.artifact
        let group = manifest["Implementation-Vendor-Id"] ?? manifest["Bundle-SymbolicName"].map { symbolic in
            let base = symbolic.split(separator: ";").first.map(String.init) ?? symbolic
            return base.split(separator: ".").dropLast().joined(separator: ".")
        }
        guard let artifact, let group, !group.isEmpty else { return nil }
        return Coordinates(group: group, artifact: artifact, version: version)
    }

    /// `commons-io-2.11.0.jar` → artifact commons-io, version 2.11.0; the group is unknown
    /// and set to the artifact, as other scanners do when nothing better is recorded.
    private static func coordinatesFromFileName(_ path: String) -> Coordinates? {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = file.lastIndex(of: ".") else { return nil }
        let base = file[..<dot]
        var parts = base.split(separator: "-")
        guard let versionStart = parts.firstIndex(where: { $0.first?.isNumber == true }), versionStart > 0 else { return nil }
        let version = parts[versionStart...].joined(separator: "-")
        parts.removeSubrange(versionStart...)
        let artifact = parts.joined(separator: "-")
        return Coordinates(group: artifact, artifact: artifact, version: version)
    }
}
