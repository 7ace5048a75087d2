public import Foundation

/// Maven's version order (`org.apache.maven.artifact.versioning.ComparableVersion`, the
/// POM reference's "Version Order Specification"): the version splits at `.`, `-` and
/// digit/letter transitions into numbers and qualifiers, `-` and transitions opening a
/// nested list; trailing "null" items (0, "", `final`, `ga`, `release`) are dropped; known
/// qualifiers order `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < "" < `sp`,
/// unknown ones after them alphabetically, numbers after qualifiers.
public struct MavenVersionScheme: VersionScheme {
    public init() {}

    public func compare(_ lhs: String, _ rhs: String) -> ComparisonResult {
        MavenVersion.Item.list(MavenVersion.parse(lhs)).compare(to: .list(MavenVersion.parse(rhs)))
    }
}

enum MavenVersion {
    indirect enum Item {
        case number(DecimalNumber)
        case qualifier(String)
        case list([Item])

        var isNull: Bool {
            switch self {
            case .number(let n): n.isZero
            case .qualifier(let q): Self.rank(of: q) == Self.releaseRank
            case .list(let items): items.isEmpty
            }
        }

        private static let qualifiers = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"]
        private static let aliases = ["ga": "", "final": "", "release": "", "cr": "rc"]
        static let releaseRank = "5"

        /// Known qualifiers rank by their index; unknown ones after all of them, by name.
        static func rank(of qualifier: String) -> String {
            qualifiers.firstIndex(of: qualifier).map(String.init) ?? "\(qualifiers.count)-\(qualifier)"
        }

        static func makeQualifier(_ text: String, followedByDigit: Bool) -> Item {
            var value = text
            if followedByDigit && text.count == 1 {
                // "a1" = alpha-1, "b1" = beta-1, "m1" = milestone-1.
                value = ["a": "alpha", "b": "beta", "m": "milestone"][text] ?? text
            }
            return .qualifier(aliases[value] ?? value)
        }

        /// `other == nil` is the absent item past the end of the shorter list.
        func compare(to other: Item?) -> ComparisonResult {
            switch self {
            case .number(let n):
                guard let other else { return n.isZero ? .orderedSame : .orderedDescending }
                switch other {
                case .number(let m): return order(n, m)
                case .qualifier, .list: return .orderedDescending
                }
            case .qualifier(let q):
                guard let other else { return compareBytes(Array(Self.rank(of: q).utf8), Array(Self.releaseRank.utf8)) }
                switch other {
                case .number, .list: return .orderedAscending
                case .qualifier(let r): return compareBytes(Array(Self.rank(of: q).utf8), Array(Self.rank(of: r).utf8))
                }
            case .list(let items):
                guard let other else {
                    // MNG-6964: the whole list against nothing, not only its first item.
                    for item in items {
                        let result = item.compare(to: nil)
                        if result != .orderedSame { return result }
                    }
                    return .orderedSame
                }
                switch other {
                case .number: return .orderedAscending
                case .qualifier: return .orderedDescending
                case .list(let otherItems):
                    for index in 0..<max(items.count, otherItems.count) {
                        let left = index < items.count ? items[index] : nil
                        let right = index < otherItems.count ? otherItems[index] : nil
                        let result: ComparisonResult
                        if let left {
                            result = left.compare(to: right)
                        } else if let right {
                            result = right.compare(to: nil).reversed
                        } else {
                            result = .orderedSame
                        }
                        if result != .orderedSame { return result }
                    }
                    return .orderedSame
                }
            }
        }
    }

    /// A list under construction: items, and where it hangs in its parent.
    private final class Builder {
        var items: [Item] = []
        var children: [(index: Int, child: Builder)] = []

        func add(_ item: Item) { items.append(item) }

        func addList() -> Builder {
            let child = Builder()
            children.append((items.count, child))
            items.append(.list([]))
            return child
        }

        /// Builds nested lists first, then drops trailing null items (ComparableVersion's `normalize`).
        func build() -> [Item] {
            for (index, child) in children { items[index] = .list(child.build()) }
            // Walk back from the end: drop null items, step over non-null lists, stop at anything else.
            for index in items.indices.reversed() {
                if items[index].isNull {
                    items.remove(at: index)
                } else if case .list = items[index] {
                    continue
                } else {
                    break
                }
            }
            return items
        }
    }

    static func parse(_ text: String) -> [Item] {
        let version = Array(text.lowercased().utf8)
        let root = Builder()
        var list = root
        var isDigit = false
        var start = 0

        func item(_ isDigit: Bool, _ bytes: ArraySlice<UInt8>, followedByDigit: Bool = false) -> Item {
            isDigit ? .number(DecimalNumber(bytes)) : .makeQualifier(String(decoding: bytes, as: UTF8.self), followedByDigit: followedByDigit)
        }

        for (index, byte) in version.enumerated() {
            if byte == UInt8(ascii: ".") {
                list.add(index == start ? .number(.zero) : item(isDigit, version[start..<index]))
                start = index + 1
            } else if byte == UInt8(ascii: "-") {
                list.add(index == start ? .number(.zero) : item(isDigit, version[start..<index]))
                start = index + 1
                list = list.addList()
            } else if byte.isASCIIDigit {
                if !isDigit && index > start {
                    // "1.0.0.x1" is "1.0.0-x1": a qualifier followed by a number opens a list.
                    if !list.items.isEmpty { list = list.addList() }
                    list.add(item(false, version[start..<index], followedByDigit: true))
                    start = index
                    list = list.addList()
                }
                isDigit = true
            } else {
                if isDigit && index > start {
                    list.add(item(true, version[start..<index]))
                    start = index
                    list = list.addList()
                }
                isDigit = false
            }
        }
        if version.count > start {
            // A trailing ".qualifier" counts as "-qualifier".
            if !isDigit && !list.items.isEmpty { list = list.addList() }
            list.add(item(isDigit, version[start...]))
        }
        return root.build()
    }
}

extension ComparisonResult {
    var reversed: ComparisonResult {
        switch self {
        case .orderedAscending: .orderedDescending
        case .orderedDescending: .orderedAscending
        case .orderedSame: .orderedSame
        }
    }
}
