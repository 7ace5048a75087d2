import Foundation
import KuraScan
import Testing

/// Expects `versions` to be strictly ascending under `scheme`: every earlier version
/// compares less than every later one (both ways round), and each equals itself.
func expectAscending(_ versions: [String], under scheme: any VersionScheme, sourceLocation: SourceLocation = #_sourceLocation) throws {
    for (i, lower) in versions.enumerated() {
        #expect(try scheme.compare(lower, lower) == .orderedSame, "\(lower) == \(lower)", sourceLocation: sourceLocation)
        for higher in versions[(i + 1)...] {
            #expect(try scheme.compare(lower, higher) == .orderedAscending, "\(lower) < \(higher)", sourceLocation: sourceLocation)
            #expect(try scheme.compare(higher, lower) == .orderedDescending, "\(higher) > \(lower)", sourceLocation: sourceLocation)
        }
    }
}

/// Expects each pair to compare equal under `scheme`, both ways round.
func expectEqual(_ pairs: [(String, String)], under scheme: any VersionScheme, sourceLocation: SourceLocation = #_sourceLocation) throws {
    for (a, b) in pairs {
        #expect(try scheme.compare(a, b) == .orderedSame, "\(a) == \(b)", sourceLocation: sourceLocation)
        #expect(try scheme.compare(b, a) == .orderedSame, "\(b) == \(a)", sourceLocation: sourceLocation)
    }
}
