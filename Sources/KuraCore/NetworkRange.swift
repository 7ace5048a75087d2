/// A block of IP addresses in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or a single address).
///
/// IPv4 ranges are held in IPv4-mapped IPv6 form, so `127.0.0.1/32` admits a client a
/// dual-stack socket reports as `::ffff:127.0.0.1`.
public struct NetworkRange: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the block (host bits cleared).
    public let network: IPAddress
    /// The prefix length in the 128-bit (IPv4-mapped) space.
    public let prefixLength: Int
    /// As written: an IPv4 range prints its IPv4 prefix length.
    private let writtenAsIPv4: Bool

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var text: String
        public var reason: String
        public var description: String { "invalid network range \"\(text)\": \(reason)" }
    }

    /// Parses `ADDRESS/PREFIX` or a bare `ADDRESS` (one host). Host bits after the prefix
    /// must be zero, so a typo such as `10.0.0.1/8` is refused rather than widened.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingASCIISpaces()
        let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parsing: parts[0]) else {
            throw ParseError(text: text, reason: "\"\(parts[0])\" is not an IPv4 or IPv6 address")
        }
        let isIPv4Text = IPAddress.parseIPv4(parts[0]) != nil
        let maximum = isIPv4Text ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(parts[1]), (0...maximum).contains(value) else {
                throw ParseError(text: text, reason: "prefix length must be 0 to \(maximum)")
            }
            length = value
        }
        let prefix = isIPv4Text ? 96 + length : length
        let masked = Self.mask(address.bytes, prefix)
        guard masked == address.bytes else {
            throw ParseError(text: text, reason: "address has bits set after the prefix (did you mean \(IPAddress(bytes: masked)!)/\(length)?)")
        }
        network = address
        prefixLength = prefix
        writtenAsIPv4 = isIPv4Text
    }

    /// Whether `address` lies in this block.
    public func contains(_ address: IPAddress) -> Bool {
        Self.mask(address.bytes, prefixLength) == network.bytes
    }

    /// Whether the textual address lies in this block (false for text that is no address).
    public func contains(_ text: String) -> Bool {
        guard let address = IPAddress(parsing: text) else { return false }
        return contains(address)
    }

    public var description: String {
        "\(network)/\(writtenAsIPv4 ? prefixLength - 96 : prefixLength)"
    }

    private static func mask(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsKept = Swift.max(0, Swift.min(8, prefix - index * 8))
            return bitsKept == 0 ? 0 : byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bitsKept))
        }
    }
}

extension Sequence<NetworkRange> {
    /// Whether any range in the list contains `address`.
    public func containsAddress(_ address: IPAddress) -> Bool {
        contains { $0.contains(address) }
    }
}

extension String {
    fileprivate func trimmingASCIISpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
