import KuraCore
import Testing

@Suite("StrictJSON")
struct StrictJSONTests {
    private func accepts(_ text: String) -> Bool {
        (try? StrictJSON.validate(Array(text.utf8))) != nil
    }

    @Test func acceptsWhatRFC8259Allows() {
        for text in [
            "{}", "[]", "0", "-0.5e+3", "\"\"", "true", "null", " {\"a\" : [1, 2.0, {\"b\":false}] } ",
            "{\"k\":\"\\u00e9\\ud83d\\ude00\\n\\\"\"}", "{\"é\":1,\"e\":2}", "{\"a\":{\"a\":{\"a\":1}}}",
        ] {
            #expect(accepts(text), "\(text)")
        }
    }

    @Test func refusesDuplicateKeysAfterUnescaping() {
        #expect(!accepts("{\"a\":1,\"a\":2}"))
        #expect(!accepts("{\"a\":1,\"\\u0061\":2}"))
        #expect(!accepts("[{\"x\":{\"b\":1,\"b\":1}}]"))
        // The same key in sibling objects is fine.
        #expect(accepts("[{\"a\":1},{\"a\":2}]"))
    }

    @Test func refusesWhatLenientParsersAccept() {
        for text in [
            "", "{", "{\"a\":1,}", "[1,]", "01", "1.", ".5", "+1", "NaN", "{'a':1}", "{\"a\" 1}", "tru", "nul",
            "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\u{1}\"", "{} {}", "[1] x",
        ] {
            #expect(!accepts(text), "\(text.debugDescription)")
        }
    }

    @Test func refusesInvalidUTF8() {
        let cases: [[UInt8]] = [
            [0x22, 0xC3, 0x22],  // truncated sequence
            [0x22, 0xC0, 0x80, 0x22],  // overlong
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // an encoded surrogate
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
            [0x22, 0xFF, 0x22],
        ]
        for bytes in cases {
            #expect(throws: StrictJSON.Violation.self) { try StrictJSON.validate(bytes) }
        }
        #expect(throws: Never.self) { try StrictJSON.validate(Array("\"日本\u{1F600}\"".utf8)) }
    }

    @Test func refusesNestingBeyondTheLimit() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(!accepts(deep))
        let fits = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(accepts(fits))
        // Deep input does not recurse without bound: a megabyte of brackets is refused quickly.
        #expect(!accepts(String(repeating: "[", count: 1 << 20)))
    }

    @Test func violationsSayWhereAndWhy() throws {
        do {
            try StrictJSON.validate(Array("{\"a\":1,\"a\":2}".utf8))
            Issue.record("accepted a duplicate key")
        } catch {
            #expect(error.reason.contains("duplicate key \"a\""))
            #expect(error.offset == 7)
        }
    }
}
