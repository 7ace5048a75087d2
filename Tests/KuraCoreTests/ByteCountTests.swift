import KuraCore
import Testing

/// Byte counts as the command line and the console's quota form take them.
struct ByteCountTests {
    @Test func sizesParseWithTheirUnits() {
        #expect(ByteCount.parse("1073741824") == 1 << 30)
        #expect(ByteCount.parse("10 MiB") == 10 << 20)
        #expect(ByteCount.parse("1.5GiB") == 3 << 29)
        #expect(ByteCount.parse("2 GB") == 2_000_000_000)
        #expect(ByteCount.parse("16m") == 16 << 20, "the command line's one-letter units")
        #expect(ByteCount.parse("512 B") == 512)
        for bad in ["ten", "5 parsecs", "", "-5", "GiB", "1e3", "99999999999 TiB", "١٢"] { #expect(ByteCount.parse(bad) == nil, "\(bad)") }
    }
}
