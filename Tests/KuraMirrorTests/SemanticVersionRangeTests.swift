import KuraMirror
import Testing

@Suite("semver ranges")
struct SemanticVersionRangeTests {
    func matching(_ range: String, _ tags: [String]) throws -> [String] {
        let parsed = try SemanticVersionRange(parsing: range)
        return tags.filter { parsed.matches(tag: $0) }
    }

    let tags = ["0.9.0", "1.0.0", "1.2.0", "v1.2.3", "1.2.9", "1.3.0-rc.1", "1.3.0", "1.10.0", "2.0.0-beta", "2.0.0", "latest", "1.2"]

    @Test func comparators() throws {
        #expect(try matching(">=1.2.0 <2.0.0", tags) == ["1.2.0", "v1.2.3", "1.2.9", "1.3.0", "1.10.0", "1.2"])
        #expect(try matching(">1.2.3 <=1.3.0", tags) == ["1.2.9", "1.3.0"])
        #expect(try matching("=2.0.0", tags) == ["2.0.0"])
    }

    @Test func caretAndTilde() throws {
        #expect(try matching("^1.2", tags) == ["1.2.0", "v1.2.3", "1.2.9", "1.3.0", "1.10.0", "1.2"])
        #expect(try matching("~1.2.3", tags) == ["v1.2.3", "1.2.9"])
        #expect(try matching("^0.9", tags) == ["0.9.0"], "below 1.0 the caret holds the minor")
    }

    @Test func partialVersionsAndAlternatives() throws {
        #expect(try matching("1.2", tags) == ["1.2.0", "v1.2.3", "1.2.9", "1.2"])
        #expect(try matching("1.x || >=2.0.0", tags) == ["1.0.0", "1.2.0", "v1.2.3", "1.2.9", "1.3.0", "1.10.0", "2.0.0", "1.2"])
    }

    @Test func preReleasesOnlyWhenNamed() throws {
        #expect(try matching(">=1.3.0-rc.0 <1.4.0", tags) == ["1.3.0-rc.1", "1.3.0"])
        #expect(try !matching("^1", tags).contains("1.3.0-rc.1"))
        #expect(SemanticVersion("1.3.0-rc.1")! < SemanticVersion("1.3.0")!)
        #expect(SemanticVersion("1.0.0-alpha.2")! < SemanticVersion("1.0.0-alpha.10")!)
    }

    @Test func badRangesAreRefused() {
        #expect(throws: MirrorError.self) { try SemanticVersionRange(parsing: ">=one") }
        #expect(throws: MirrorError.self) { try SemanticVersionRange(parsing: "1.0 || ") }
        #expect(throws: MirrorError.self) { try TagFilter(regex: "([") }
        #expect(throws: MirrorError.self) { try PlatformSpecifier(parsing: "linux") }
        #expect(throws: MirrorError.self) { try RegistryEndpoint(parsing: "ftp://example.com") }
    }
}
