/// The module information a Go binary carries (what `go version -m` prints): the Go
/// version it was built with, its main module and the modules it depends on.
public struct GoBuildInfo: Sendable, Equatable {
    public struct Module: Sendable, Equatable {
        public let path: String
        public let version: String
        /// A `replace` directive's target, which is what was actually built.
        public var replacement: Replacement?
    }

    public struct Replacement: Sendable, Equatable {
        public let path: String
        public let version: String
    }

    public let goVersion: String
    public let mainPath: String?
    public let main: Module?
    public let dependencies: [Module]

    enum ParseResult {
        case complete(GoBuildInfo)
        case needMore
        case invalid
    }

    /// Parses the bytes from the start of the 32-byte build info header: pointer size at
    /// 14, flags at 15 (bit 1: strings inline, Go 1.18+), then two length-prefixed strings.
    static func parse(_ bytes: [UInt8]) -> ParseResult {
        guard bytes.count >= 32 else { return .needMore }
        guard bytes[15] & 0x2 != 0 else { return .invalid }  // pre-1.18 pointer format
        var offset = 32
        guard case .value(let version) = readString(bytes, at: &offset) else { return .needMore }
        guard case .value(var modinfo) = readString(bytes, at: &offset) else { return .needMore }
        // The module text is framed by 16 sentinel bytes on each side.
        if modinfo.count >= 33, modinfo[modinfo.count - 17] == UInt8(ascii: "\n") {
            modinfo = Array(modinfo[16..<(modinfo.count - 16)])
        }
        guard version.starts(with: Array("go".utf8)) else { return .invalid }
        return .complete(GoBuildInfo(goVersion: String(decoding: version, as: UTF8.self), modinfo: String(decoding: modinfo, as: UTF8.self)))
    }

    private enum StringRead { case value([UInt8]), needMore }

    private static func readString(_ bytes: [UInt8], at offset: inout Int) -> StringRead {
        var length = 0
        var shift = 0
        while true {
            guard offset < bytes.count else { return .needMore }
            let byte = bytes[offset]
            offset += 1
            length |= Int(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
            if shift > 28 { return .value([]) }
        }
        guard offset + length <= bytes.count else { return .needMore }
        defer { offset += length }
        return .value(Array(bytes[offset..<(offset + length)]))
    }

    init(goVersion: String, modinfo: String) {
        self.goVersion = goVersion
        var mainPath: String?
        var main: Module?
        var dependencies: [Module] = []
        for line in modinfo.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "path" where fields.count >= 2:
                mainPath = fields[1]
            case "mod" where fields.count >= 3:
                main = Module(path: fields[1], version: fields[2])
            case "dep" where fields.count >= 3:
                dependencies.append(Module(path: fields[1], version: fields[2]))
            case "=>" where fields.count >= 3:
                let replacement = Replacement(path: fields[1], version: fields[2])
                if !dependencies.isEmpty {
                    dependencies[dependencies.count - 1].replacement = replacement
                } else {
                    main?.replacement = replacement
                }
            default:
                break
            }
        }
        self.mainPath = mainPath
        self.main = main
        self.dependencies = dependencies
    }
}
