public import Foundation

/// Alpine's version order, as apk-tools' `apk_version_compare`:
/// `digits{.digits}[letter]{_suffix[digits]}[-r<digits>]`. Pre-release suffixes
/// (`_alpha` < `_beta` < `_pre` < `_rc`) sort before the bare version, post-release ones
/// (`_cvs` < `_svn` < `_git` < `_hg` < `_p`) after it; `-rN` is the package revision.
public struct ApkVersionScheme: VersionScheme {
    public init() {}

    public func compare(_ lhs: String, _ rhs: String) -> ComparisonResult {
        var a = ApkTokenizer(lhs), b = ApkTokenizer(rhs)
        var valueA = 0, valueB = 0
        while a.kind == b.kind, a.kind != .end, a.kind != .invalid, valueA == valueB {
            valueA = a.nextValue()
            valueB = b.nextValue()
        }
        if valueA != valueB { return order(valueA, valueB) }
        if a.kind == b.kind { return .orderedSame }
        // Equal so far: the longer version is newer, unless what follows is a pre-release suffix.
        if a.kind == .suffix, a.peekSuffixValue() < 0 { return .orderedAscending }
        if b.kind == .suffix, b.peekSuffixValue() < 0 { return .orderedDescending }
        return order(b.kind.rawValue, a.kind.rawValue)
    }
}

/// apk-tools' tokenizer: each token's kind is decided by the byte before it.
struct ApkTokenizer {
    enum Kind: Int {
        case invalid = -1, digitOrZero, digit, letter, suffix, suffixNumber, revisionNumber, end
    }

    private static let preReleaseSuffixes = ["alpha", "beta", "pre", "rc"].map { Array($0.utf8) }
    private static let postReleaseSuffixes = ["cvs", "svn", "git", "hg", "p"].map { Array($0.utf8) }

    private var rest: ArraySlice<UInt8>
    private(set) var kind: Kind = .digit

    init(_ text: String) {
        rest = Array(text.utf8)[...].trimmingSpaces()
    }

    /// The value of the current token; advances to the next and sets `kind`.
    mutating func nextValue() -> Int {
        if rest.isEmpty {
            kind = .end
            return 0
        }
        var value = 0
        var consumed = 0
        var nextKind: Kind?
        switch kind {
        case .digitOrZero where rest.first == UInt8(ascii: "0"):
            // Leading zeros after a dot: "1.05" sorts before "1.5".
            consumed = rest.prefix { $0 == UInt8(ascii: "0") }.count
            value = -consumed
            // More digits continue the number; anything else ("1.0_rc1", "1.0-r1") is read as after a number.
            if rest.dropFirst(consumed).first?.isASCIIDigit == true { nextKind = .digit }
        case .digitOrZero, .digit, .suffixNumber, .revisionNumber:
            for byte in rest.prefix(while: \.isASCIIDigit) {
                // Clamp rather than overflow on absurdly long numbers.
                value = min(value &* 10 &+ Int(byte - UInt8(ascii: "0")), Int.max / 20)
                consumed += 1
            }
        case .letter:
            value = Int(rest.first!)
            consumed = 1
        case .suffix:
            guard let (suffixValue, length) = Self.suffix(at: rest) else {
                kind = .invalid
                return -1
            }
            value = suffixValue
            consumed = length
        case .invalid, .end:
            kind = .invalid
            return -1
        }
        rest = rest.dropFirst(consumed)
        if rest.isEmpty {
            kind = .end
        } else if let nextKind {
            kind = nextKind
        } else {
            advanceKind()
        }
        return value
    }

    /// The value the suffix at the cursor would have (negative for pre-releases).
    func peekSuffixValue() -> Int {
        Self.suffix(at: rest)?.value ?? -1
    }

    private static func suffix(at bytes: ArraySlice<UInt8>) -> (value: Int, length: Int)? {
        for (index, name) in preReleaseSuffixes.enumerated() where bytes.starts(with: name) {
            return (index - preReleaseSuffixes.count, name.count)
        }
        for (index, name) in postReleaseSuffixes.enumerated() where bytes.starts(with: name) {
            return (index, name.count)
        }
        return nil
    }

    /// apk-tools' `next_token`: decides the kind of the token at the cursor, consuming a separator.
    private mutating func advanceKind() {
        guard let byte = rest.first else {
            kind = .end
            return
        }
        var next: Kind = .invalid
        if (kind == .digit || kind == .digitOrZero) && byte.isASCIILower {
            next = .letter
        } else if kind == .letter && byte.isASCIIDigit {
            next = .digit
        } else if kind == .suffix && byte.isASCIIDigit {
            next = .suffixNumber
        } else {
            switch byte {
            case UInt8(ascii: "."): next = .digitOrZero
            case UInt8(ascii: "_"): next = .suffix
            case UInt8(ascii: "-"):
                if rest.dropFirst().first == UInt8(ascii: "r") {
                    next = .revisionNumber
                    rest = rest.dropFirst()
                }
            default: break
            }
            rest = rest.dropFirst()
        }
        if next.rawValue < kind.rawValue {
            let allowed = (next == .digitOrZero && kind == .digit)
                || (next == .suffix && kind == .suffixNumber)
                || (next == .digit && kind == .letter)
            if !allowed { next = .invalid }
        }
        kind = next
    }
}
