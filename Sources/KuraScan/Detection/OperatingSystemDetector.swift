/// Reads the distribution from `/etc/os-release`, which is often a symbolic link to
/// `/usr/lib/os-release`; the latter is the fallback os-release(5) names.
public struct OperatingSystemDetector: Sendable {
    static let paths = ["etc/os-release", "usr/lib/os-release"]

    public init() {}

    public func interest(in entry: TarEntry) -> FileInterest {
        Self.paths.contains(entry.path) ? .content : .none
    }

    public func operatingSystem(in files: ImageFiles) -> OperatingSystem? {
        for path in Self.paths {
            if let text = files.resolving(path)?.text, let os = OperatingSystem(osRelease: text) { return os }
        }
        return nil
    }
}
