/// Debian and Ubuntu packages from dpkg's database: `/var/lib/dpkg/status`, and the
/// per-package files distroless images keep in `/var/lib/dpkg/status.d/`.
public struct DpkgDetector: PackageDetector {
    public init() {}

    public func interest(in entry: TarEntry) -> FileInterest {
        if entry.path == "var/lib/dpkg/status" { return .content }
        if entry.path.hasPrefix("var/lib/dpkg/status.d/"), !entry.path.hasSuffix(".md5sums"),
           !entry.path.dropFirst("var/lib/dpkg/status.d/".count).contains("/") {
            return .content
        }
        return .none
    }

    public func packages(in files: ImageFiles, os: OperatingSystem?) -> [Package] {
        let ecosystem = os?.ecosystem == .ubuntu ? Ecosystem.ubuntu : .debian
        let vendor = ecosystem == .ubuntu ? "ubuntu" : "debian"
        var packages: [Package] = []
        for file in ownFiles(in: files) {
            guard let text = file.text else { continue }
            for stanza in ControlStanzas.parse(text) {
                guard let name = stanza["Package"], let version = stanza["Version"] else { continue }
                // status.d files have no Status field; in status, only installed packages count.
                if let status = stanza["Status"], !status.hasSuffix(" installed") { continue }
                let source = Self.source(stanza["Source"])
                var qualifiers = ["arch": stanza["Architecture"] ?? ""]
                if let os { qualifiers["distro"] = os.purlDistro }
                if let sourceName = source.name { qualifiers["upstream"] = sourceName }
                packages.append(Package(
                    name: name, version: version, ecosystem: ecosystem,
                    sourceName: source.name ?? name, sourceVersion: source.version ?? version,
                    layerIndex: file.layerIndex, path: file.path,
                    purl: PackageURL.make(type: "deb", namespace: vendor, name: name, version: version, qualifiers: qualifiers)))
            }
        }
        return packages
    }

    /// `Source: glibc` or `Source: glibc (2.36-9)`.
    static func source(_ field: String?) -> (name: String?, version: String?) {
        guard let field, !field.isEmpty else { return (nil, nil) }
        let parts = field.split(separator: " ", maxSplits: 1)
        let name = String(parts[0])
        guard parts.count == 2 else { return (name, nil) }
        let version = parts[1].trimmingPrefix("(").prefix { $0 != ")" }
        return (name, version.isEmpty ? nil : String(version))
    }
}
