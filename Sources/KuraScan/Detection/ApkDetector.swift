/// Alpine packages from apk's database, `/lib/apk/db/installed`: stanzas of one-letter
/// fields (`P:` name, `V:` version, `o:` origin, the source package advisories name).
public struct ApkDetector: PackageDetector {
    static let path = "lib/apk/db/installed"

    public init() {}

    public func interest(in entry: TarEntry) -> FileInterest {
        entry.path == Self.path ? .content : .none
    }

    public func packages(in files: ImageFiles, os: OperatingSystem?) -> [Package] {
        guard let file = files[Self.path], let text = file.text else { return [] }
        return ControlStanzas.parse(text).compactMap { stanza in
            guard let name = stanza["P"], let version = stanza["V"] else { return nil }
            var qualifiers = ["arch": stanza["A"] ?? ""]
            if let os { qualifiers["distro"] = os.purlDistro }
            return Package(
                name: name, version: version, ecosystem: .alpine, sourceName: stanza["o"] ?? name, sourceVersion: version,
                layerIndex: file.layerIndex, path: file.path,
                purl: PackageURL.make(type: "apk", namespace: "alpine", name: name, version: version, qualifiers: qualifiers))
        }
    }
}
