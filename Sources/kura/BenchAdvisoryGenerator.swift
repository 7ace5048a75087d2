import Foundation
import KuraScan

/// Writes generated OSV records for the scan benchmark: one in ten names a package of the
/// image (so matching finds something), the rest name packages the image does not have,
/// spread over the ecosystems the scanner knows.
enum BenchAdvisoryGenerator {
    static func write(count: Int, for packages: [Package], into folder: URL, idPrefix: String = "BENCH") throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let others: [(ecosystem: String, version: String)] = [
            ("Debian:12", "1.0-1"), ("Alpine:v3.18", "1.0-r0"), ("PyPI", "1.0"), ("npm", "1.0.0"), ("Go", "1.0.0"), ("Maven", "1.0"),
        ]
        for index in 0..<count {
            let ecosystem: String
            let name: String
            let fixed: String
            if index % 10 == 0, !packages.isEmpty {
                let package = packages[(index / 10) % packages.count]
                ecosystem = package.ecosystem == .debian ? "Debian:12" : package.ecosystem.rawValue
                name = package.sourceName ?? package.name
                fixed = package.ecosystem == .debian ? "99:0" : "99.0.0"
            } else {
                let other = others[index % others.count]
                ecosystem = other.ecosystem
                name = "absent-\(index)"
                fixed = other.version
            }
            let record = """
                {"schema_version":"1.6.0","id":"\(idPrefix)-\(index)","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-\(index)"],
                 "summary":"generated advisory \(index)",
                 "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
                 "affected":[{"package":{"ecosystem":"\(ecosystem)","name":"\(name)"},
                   "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"\(fixed)"}]}]}]}
                """
            // 256 subfolders keep directory listings short.
            let subfolder = folder.appendingPathComponent(String(index % 256))
            if index < 256 { try FileManager.default.createDirectory(at: subfolder, withIntermediateDirectories: true) }
            try Data(record.utf8).write(to: subfolder.appendingPathComponent("\(idPrefix)-\(index).json"))
        }
    }
}
