public import Foundation

/// Python's version order (PEP 440, as `packaging.version.Version` implements it):
/// `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, with the alternative spellings PEP 440
/// normalises (`alpha`, `c`, `pre`, `preview`, `rev`, `r`, `-N` for post, `_`/`-`/`.`
/// separators, a leading `v`). Order: epoch, release (trailing zeros ignored), then
/// `.devN` < `aN` < `bN` < `rcN` < release < `.postN`, and a local label sorts after the
/// same public version.
public struct PEP440VersionScheme: VersionScheme {
    public init() {}

    public func compare(_ lhs: String, _ rhs: String) throws -> ComparisonResult {
        let a = try PEP440Version(lhs), b = try PEP440Version(rhs)
        return a.compare(to: b)
    }
}

struct PEP440Version {
    enum PreRelease: Int, Comparable {
        case alpha, beta, releaseCandidate

        static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    enum LocalSegment {
        case number(DecimalNumber)
        case text([UInt8])
    }

    var epoch = DecimalNumber.zero
    var release: [DecimalNumber] = []
    var pre: (kind: PreRelease, number: DecimalNumber)?
    var post: DecimalNumber?
    var dev: DecimalNumber?
    var local: [LocalSegment]?

    init(_ text: String) throws {
        let invalid = VersionError(version: text, scheme: "PEP 440")
        var cursor = PEP440Cursor(Array(text.lowercased().utf8)[...].trimmingSpaces())
        cursor.skip("v")
        guard let first = cursor.number() else { throw invalid }
        if cursor.skip("!") {
            epoch = first
            guard let releaseStart = cursor.number() else { throw invalid }
            release = [releaseStart]
        } else {
            release = [first]
        }
        while cursor.peek(".", thenDigit: true) {
            cursor.skip(".")
            release.append(cursor.number()!)
        }
        pre = Self.parsePreRelease(&cursor)
        post = Self.parsePostRelease(&cursor)
        dev = Self.parseDevRelease(&cursor)
        if cursor.skip("+") {
            var segments: [LocalSegment] = []
            repeat {
                let segment = cursor.take { $0.isASCIIDigit || $0.isASCIILower }
                guard !segment.isEmpty else { throw invalid }
                segments.append(segment.allSatisfy(\.isASCIIDigit) ? .number(DecimalNumber(segment)) : .text(Array(segment)))
            } while cursor.skipSeparator()
            local = segments
        }
        guard cursor.isAtEnd else { throw invalid }
    }

    private static func parsePreRelease(_ cursor: inout PEP440Cursor) -> (PreRelease, DecimalNumber)? {
        let spellings: [(String, PreRelease)] = [
            ("alpha", .alpha), ("a", .alpha), ("beta", .beta), ("b", .beta),
            ("preview", .releaseCandidate), ("pre", .releaseCandidate), ("rc", .releaseCandidate), ("c", .releaseCandidate),
        ]
        let saved = cursor
        cursor.skipSeparator()
        for (spelling, kind) in spellings where cursor.skip(spelling) {
            return (kind, cursor.implicitNumber())
        }
        cursor = saved
        return nil
    }

    private static func parsePostRelease(_ cursor: inout PEP440Cursor) -> DecimalNumber? {
        // "1.0-1" is an implicit post-release.
        if cursor.peek("-", thenDigit: true) {
            cursor.skip("-")
            return cursor.number()
        }
        let saved = cursor
        cursor.skipSeparator()
        for spelling in ["post", "rev", "r"] where cursor.skip(spelling) {
            return cursor.implicitNumber()
        }
        cursor = saved
        return nil
    }

    private static func parseDevRelease(_ cursor: inout PEP440Cursor) -> DecimalNumber? {
        let saved = cursor
        cursor.skipSeparator()
        if cursor.skip("dev") { return cursor.implicitNumber() }
        cursor = saved
        return nil
    }

    func compare(to other: PEP440Version) -> ComparisonResult {
        if epoch != other.epoch { return order(epoch, other.epoch) }
        let releases = Self.compareRelease(release, other.release)
        if releases != .orderedSame { return releases }
        let pres = order(preRank, other.preRank)
        if pres != .orderedSame { return pres }
        if let a = pre, let b = other.pre, a.kind != b.kind || a.number != b.number {
            return a.kind != b.kind ? order(a.kind, b.kind) : order(a.number, b.number)
        }
        let posts = Self.compareOptional(post, other.post, absentIsLow: true)
        if posts != .orderedSame { return posts }
        // A missing dev segment sorts after every dev release.
        let devs = Self.compareOptional(dev, other.dev, absentIsLow: false)
        if devs != .orderedSame { return devs }
        return Self.compareLocal(local, other.local)
    }

    /// A dev release of the bare version (`1.0.dev1`) comes before its pre-releases (rank 0),
    /// pre-releases next (1), a version without pre-release after all of them (2).
    private var preRank: Int {
        if pre != nil { return 1 }
        if post == nil && dev != nil { return 0 }
        return 2
    }

    private static func compareOptional<T: Comparable>(_ a: T?, _ b: T?, absentIsLow: Bool) -> ComparisonResult {
        switch (a, b) {
        case (nil, nil): .orderedSame
        case (nil, _): absentIsLow ? .orderedAscending : .orderedDescending
        case (_, nil): absentIsLow ? .orderedDescending : .orderedAscending
        case (let x?, let y?): KuraScan.order(x, y)
        }
    }

    private static func compareRelease(_ a: [DecimalNumber], _ b: [DecimalNumber]) -> ComparisonResult {
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : .zero, y = index < b.count ? b[index] : .zero
            if x != y { return KuraScan.order(x, y) }
        }
        return .orderedSame
    }

    private static func compareLocal(_ a: [LocalSegment]?, _ b: [LocalSegment]?) -> ComparisonResult {
        guard let a else { return b == nil ? .orderedSame : .orderedAscending }
        guard let b else { return .orderedDescending }
        for (x, y) in zip(a, b) {
            let segments: ComparisonResult
            switch (x, y) {
            case (.number(let m), .number(let n)): segments = KuraScan.order(m, n)
            case (.number, .text): segments = .orderedDescending
            case (.text, .number): segments = .orderedAscending
            case (.text(let s), .text(let t)): segments = compareBytes(s, t)
            }
            if segments != .orderedSame { return segments }
        }
        return KuraScan.order(a.count, b.count)
    }
}

/// A byte cursor over a lower-cased version string.
struct PEP440Cursor {
    private var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

    var isAtEnd: Bool { rest.isEmpty }

    @discardableResult
    mutating func skip(_ literal: String) -> Bool {
        guard rest.starts(with: literal.utf8) else { return false }
        rest = rest.dropFirst(literal.utf8.count)
        return true
    }

    @discardableResult
    mutating func skipSeparator() -> Bool {
        guard let first = rest.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "_") || first == UInt8(ascii: ".") else { return false }
        rest = rest.dropFirst()
        return true
    }

    func peek(_ literal: String, thenDigit: Bool) -> Bool {
        rest.starts(with: literal.utf8) && (rest.dropFirst(literal.utf8.count).first?.isASCIIDigit ?? false) == thenDigit
    }

    mutating func number() -> DecimalNumber? {
        let digits = take(while: \.isASCIIDigit)
        return digits.isEmpty ? nil : DecimalNumber(digits)
    }

    /// `rc1`, `rc.1`, `rc-1`, or `rc` alone (number 0).
    mutating func implicitNumber() -> DecimalNumber {
        let saved = self
        skipSeparator()
        if let number = number() { return number }
        self = saved
        return .zero
    }

    mutating func take(while predicate: (UInt8) -> Bool) -> ArraySlice<UInt8> {
        let taken = rest.prefix(while: predicate)
        rest = rest.dropFirst(taken.count)
        return taken
    }
}
