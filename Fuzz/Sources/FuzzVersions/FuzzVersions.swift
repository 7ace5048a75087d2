import Foundation
import KuraScan

/// Version comparison in every ecosystem's scheme, and CVSS vectors: the first byte picks the
/// scheme, the rest is two versions split at the first newline. No input traps; a comparison
/// is reflexive and antisymmetric (`compare(a, b)` is the reverse of `compare(b, a)`); a
/// vector either parses to a base score in 0…10 or is refused.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let selector = bytes.first else { return 0 }
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    let ecosystems = Ecosystem.allCases
    if Int(selector) % (ecosystems.count + 2) >= ecosystems.count {
        if let score = try? CVSS3(vector: text).baseScore { precondition((0...10).contains(score), "CVSS3 \(text) scored \(score)") }
        if let score = try? CVSS4(vector: text).score { precondition((0...10).contains(score), "CVSS4 \(text) scored \(score)") }
        return 0
    }
    let scheme = ecosystems[Int(selector) % (ecosystems.count + 2)].versionScheme
    let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    let (a, b) = (parts[0], parts.count > 1 ? parts[1] : "")
    if let same = try? scheme.compare(a, a) { precondition(same == .orderedSame, "\(a) is not equal to itself") }
    guard let forward = try? scheme.compare(a, b), let backward = try? scheme.compare(b, a) else { return 0 }
    let reversed: ComparisonResult = switch backward {
    case .orderedAscending: .orderedDescending
    case .orderedDescending: .orderedAscending
    case .orderedSame: .orderedSame
    }
    precondition(forward == reversed, "compare(\(a), \(b)) = \(forward) but compare(\(b), \(a)) = \(backward)")
    return 0
}
