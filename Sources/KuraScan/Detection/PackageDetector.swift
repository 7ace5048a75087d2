/// Finds one kind of package record in an image. A detector names the files it needs
/// (``interest(in:)``, asked for every tar entry of every layer) and then reads them from
/// the final filesystem. A record it cannot parse is skipped, not fatal: one broken
/// `package.json` must not hide the rest of the image.
public protocol PackageDetector: Sendable {
    func interest(in entry: TarEntry) -> FileInterest
    func packages(in files: ImageFiles, os: OperatingSystem?) -> [Package]
}

extension PackageDetector {
    /// The files this detector asked for, in path order.
    func ownFiles(in files: ImageFiles) -> [ImageFile] {
        files.files.values.filter { file in
            let entry = TarEntry(path: file.path, kind: .regular, size: 0, mode: 0o755)
            return interest(in: entry) != .none
        }.sorted { $0.path < $1.path }
    }
}

/// The detectors a scan runs by default.
public enum PackageDetectors {
    public static let all: [any PackageDetector] = [
        DpkgDetector(), ApkDetector(), RpmDetector(), PythonDetector(), NpmDetector(), GoBinaryDetector(), JavaArchiveDetector(),
    ]
}
