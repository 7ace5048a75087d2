import Foundation

/// Python distributions installed in site-packages: `*.dist-info/METADATA` (wheels, pip),
/// `*.egg-info/PKG-INFO` and single-file `*.egg-info` (setuptools). The `Name` and
/// `Version` headers of the core metadata are read.
public struct PythonDetector: PackageDetector {
    public init() {}

    public func interest(in entry: TarEntry) -> FileInterest {
        let path = entry.path
        if path.hasSuffix(".dist-info/METADATA") || path.hasSuffix(".egg-info/PKG-INFO") || path.hasSuffix(".egg-info") {
            return .content
        }
        return .none
    }

    public func packages(in files: ImageFiles, os: OperatingSystem?) -> [Package] {
        ownFiles(in: files).compactMap { file in
            guard let text = file.text else { return nil }
            var name: String?
            var version: String?
            // Core metadata is an email header block; the body (the description) follows a blank line.
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.isEmpty || line == "\r" { break }
                if line.hasPrefix("Name:") { name = line.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines) }
                if line.hasPrefix("Version:") { version = line.dropFirst(8).trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            guard let name, let version, !name.isEmpty, !version.isEmpty else { return nil }
            let normalized = PyPIName.normalize(name)
            return Package(
                name: normalized, version: version, ecosystem: .pypi, layerIndex: file.layerIndex, path: file.path,
                purl: PackageURL.make(type: "pypi", name: normalized, version: version))
        }
    }
}
