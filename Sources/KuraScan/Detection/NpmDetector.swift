import Foundation

/// npm packages installed under `node_modules`: each package's own `package.json`
/// (`node_modules/NAME/package.json` or `node_modules/@SCOPE/NAME/package.json`, at any
/// nesting depth); files deeper inside a package are not package records.
public struct NpmDetector: PackageDetector {
    public init() {}

    public func interest(in entry: TarEntry) -> FileInterest {
        Self.isPackageManifest(entry.path) ? .content : .none
    }

    static func isPackageManifest(_ path: String) -> Bool {
        guard path.hasSuffix("/package.json") else { return false }
        let components = path.split(separator: "/")
        guard components.count >= 3 else { return false }
        let directory = components[components.count - 2]
        let parent = components[components.count - 3]
        if parent == "node_modules" { return !directory.hasPrefix("@") }
        return parent.hasPrefix("@") && components.count >= 4 && components[components.count - 4] == "node_modules"
    }

    private struct Manifest: Decodable {
        let name: String?
        let version: String?
    }

    public func packages(in files: ImageFiles, os: OperatingSystem?) -> [Package] {
        ownFiles(in: files).compactMap { file in
            guard let bytes = file.bytes, let manifest = try? JSONDecoder().decode(Manifest.self, from: Data(bytes)),
                  let name = manifest.name, let version = manifest.version, !name.isEmpty, !version.isEmpty else { return nil }
            let scoped = name.hasPrefix("@") ? name.split(separator: "/", maxSplits: 1).map(String.init) : [name]
            let purl = scoped.count == 2
                ? PackageURL.make(type: "npm", namespace: scoped[0], name: scoped[1], version: version)
                : PackageURL.make(type: "npm", name: name, version: version)
            return Package(name: name, version: version, ecosystem: .npm, layerIndex: file.layerIndex, path: file.path, purl: purl)
        }
    }
}
