import Foundation

/// `[epoch:]version[-release]`, the shape of dpkg (`upstream-revision`) and RPM (EVR)
/// versions: the epoch ends at the first colon when it is all digits, the release starts
/// after the last hyphen.
struct EpochVersionRelease {
    let epoch: ArraySlice<UInt8>
    let version: ArraySlice<UInt8>
    let release: ArraySlice<UInt8>

    init(_ text: String) {
        var rest = Array(text.utf8)[...].trimmingSpaces()
        if let colon = rest.firstIndex(of: UInt8(ascii: ":")), rest[..<colon].allSatisfy(\.isASCIIDigit) {
            epoch = rest[..<colon]
            rest = rest[(colon + 1)...]
        } else {
            epoch = []
        }
        if let dash = rest.lastIndex(of: UInt8(ascii: "-")) {
            version = rest[..<dash]
            release = rest[(dash + 1)...]
        } else {
            version = rest
            release = []
        }
    }

    /// Epochs numerically (absent is 0), then versions, then releases with `parts`.
    static func compare(
        _ lhs: String, _ rhs: String, parts: (ArraySlice<UInt8>, ArraySlice<UInt8>) -> ComparisonResult
    ) -> ComparisonResult {
        let a = EpochVersionRelease(lhs), b = EpochVersionRelease(rhs)
        let epochs = compareDigits(a.epoch, b.epoch)
        if epochs != .orderedSame { return epochs }
        let versions = parts(a.version, b.version)
        return versions != .orderedSame ? versions : parts(a.release, b.release)
    }
}

extension ArraySlice<UInt8> {
    func trimmingSpaces() -> ArraySlice<UInt8> {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        var slice = self.drop(while: isSpace)
        while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        return slice
    }
}
