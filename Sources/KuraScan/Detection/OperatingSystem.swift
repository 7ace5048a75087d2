import Foundation

/// The distribution an image is built on, from `/etc/os-release` (or `/usr/lib/os-release`).
public struct OperatingSystem: Sendable, Hashable, Codable {
    /// `ID`: debian, ubuntu, alpine, rhel, rocky, almalinux, amzn, …
    public let id: String
    /// `VERSION_ID`: "12", "22.04", "3.18.4", "9.3".
    public let versionID: String
    public let prettyName: String?

    public init(id: String, versionID: String, prettyName: String?) {
        self.id = id
        self.versionID = versionID
        self.prettyName = prettyName
    }

    /// The advisory ecosystem for this distribution's packages, if the scanner has one.
    public var ecosystem: Ecosystem? {
        switch id {
        case "debian": .debian
        case "ubuntu": .ubuntu
        case "alpine": .alpine
        case "rhel", "centos": .redHat
        case "rocky": .rocky
        case "almalinux": .alma
        default: nil
        }
    }

    /// The release as advisories name it: Debian "12", Ubuntu "22.04", Alpine "3.18", RHEL family "9".
    public var advisoryRelease: String {
        switch ecosystem {
        case .alpine: DistributionRelease.alpine(versionID)
        case .redHat, .rocky, .alma: DistributionRelease.major(versionID)
        default: versionID
        }
    }

    /// The purl `distro` qualifier: `debian-12`, `alpine-3.18.4`.
    var purlDistro: String { "\(id)-\(versionID)" }

    /// Parses os-release(5): `KEY=value` lines, values optionally quoted.
    public init?(osRelease text: String) {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            fields[String(trimmed[..<equals])] = value.replacingOccurrences(of: "\\\"", with: "\"")
        }
        guard let id = fields["ID"]?.lowercased(), !id.isEmpty else { return nil }
        self.init(id: id, versionID: fields["VERSION_ID"] ?? "", prettyName: fields["PRETTY_NAME"])
    }
}
