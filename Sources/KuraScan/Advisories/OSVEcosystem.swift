/// An OSV `ecosystem` string split into the scanner's ``Ecosystem`` and a distribution
/// release normalised to what `/etc/os-release` gives (``DistributionRelease``):
/// `Debian:12` → (Debian, "12"), `Ubuntu:22.04:LTS` → (Ubuntu, "22.04"), `Alpine:v3.18` →
/// (Alpine, "3.18"), `Red Hat:enterprise_linux:9::appstream` → (Red Hat, "9"),
/// `Rocky Linux:9` → (Rocky Linux, "9"); language ecosystems have release "".
struct OSVEcosystem: Equatable {
    let ecosystem: Ecosystem
    let release: String

    init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let ecosystem = Ecosystem(rawValue: parts[0]) else { return nil }
        self.ecosystem = ecosystem
        let rest = parts.dropFirst()
        switch ecosystem {
        case .debian, .ubuntu:
            release = rest.first ?? ""
        case .alpine:
            release = DistributionRelease.alpine(rest.first ?? "")
        case .redHat, .rocky, .alma:
            // The first component that starts with a digit carries the major release.
            let version = rest.first { $0.first?.isNumber == true } ?? ""
            release = DistributionRelease.major(version)
        case .pypi, .npm, .go, .maven:
            release = ""
        }
    }
}

/// Release names as advisories key them, from a distribution's version string.
enum DistributionRelease {
    /// Alpine advisories name a branch: `v3.18` and `3.18.4` both give "3.18".
    static func alpine(_ version: String) -> String {
        let trimmed = version.hasPrefix("v") ? String(version.dropFirst()) : version
        return trimmed.split(separator: ".").prefix(2).joined(separator: ".")
    }

    /// RHEL and its rebuilds: "9.3" gives "9".
    static func major(_ version: String) -> String {
        String(version.split(separator: ".").first ?? "")
    }
}
