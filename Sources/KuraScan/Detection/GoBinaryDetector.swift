/// Go modules compiled into executables, from the build information the Go linker
/// embeds (Go 1.18+): every dependency (as replaced, when a `replace` directive applies),
/// the main module when it has a real version, and the standard library as `stdlib`,
/// which is how the Go vulnerability database names it.
public struct GoBinaryDetector: PackageDetector {
    /// Smaller executables are scripts or stubs, not Go binaries.
    static let minimumSize: Int64 = 1024

    public init() {}

    public func interest(in entry: TarEntry) -> FileInterest {
        entry.isExecutable && entry.size >= Self.minimumSize ? .goBuildInfo : .none
    }

    public func packages(in files: ImageFiles, os: OperatingSystem?) -> [Package] {
        var packages: [Package] = []
        for file in files.files.values.sorted(by: { $0.path < $1.path }) {
            guard case .goBuildInfo(let info?) = file.content else { continue }
            func add(_ path: String, _ version: String) {
                packages.append(Package(
                    name: path, version: version, ecosystem: .go, layerIndex: file.layerIndex, path: file.path,
                    purl: PackageURL.make(type: "golang", namespace: Self.namespace(of: path), name: Self.lastComponent(of: path), version: version)))
            }
            if let main = info.main, main.version != "(devel)", !main.version.isEmpty {
                add(main.path, main.version)
            }
            for module in info.dependencies {
                let built = module.replacement.map { GoBuildInfo.Module(path: $0.path, version: $0.version) } ?? module
                // A replacement by a local directory has no version to match.
                guard !built.version.isEmpty, built.version != "(devel)" else { continue }
                add(built.path, built.version)
            }
            if info.goVersion.hasPrefix("go") {
                // "go1.21.3" (possibly with " X:…" experiment suffixes) → "v1.21.3".
                let version = info.goVersion.dropFirst(2).prefix { $0 != " " }
                add("stdlib", "v" + version)
            }
        }
        return packages
    }

    static func namespace(of path: String) -> String? {
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }

    static func lastComponent(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }
}
