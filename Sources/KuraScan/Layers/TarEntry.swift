/// One entry of a layer's tar stream, after PAX and GNU extensions are applied.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular
        case directory
        case symbolicLink(target: String)
        case hardLink(target: String)
        /// Devices, FIFOs and other kinds no detector reads.
        case other
    }

    /// The path inside the image, cleaned: no leading `/` or `./`, no `.` or `..` components.
    public let path: String
    public let kind: Kind
    /// Bytes of content stored in the archive.
    public let size: Int64
    /// Permission bits (`0o755`, …).
    public let mode: Int

    public var isExecutable: Bool { kind == .regular && mode & 0o111 != 0 }
}

enum TarPath {
    /// Cleans `raw` as containerd does (`path.Join("/", raw)`, then relative): a `..` cannot
    /// climb above the root.
    static func clean(_ raw: String) -> String {
        var components: [Substring] = []
        for component in raw.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..": _ = components.popLast()
            default: components.append(component)
            }
        }
        return components.joined(separator: "/")
    }
}
