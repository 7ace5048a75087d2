import Foundation
import KuraCore
import Testing

@Suite("Digest")
struct DigestTests {
    static let sha256Hex = String(repeating: "ab", count: 32)
    static let sha512Hex = String(repeating: "0f", count: 64)

    @Test func parsesCanonicalDigests() throws {
        let a = try Digest(parsing: "sha256:\(Self.sha256Hex)")
        #expect(a.algorithm == .sha256)
        #expect(a.encoded == Self.sha256Hex)
        #expect(a.description == "sha256:\(Self.sha256Hex)")
        let b = try Digest(parsing: "sha512:\(Self.sha512Hex)")
        #expect(b.algorithm == .sha512)
    }

    @Test(arguments: [
        "", ":", "sha256", "sha256:", ":abc", "SHA256:abc", "sha256:../..", "sha256:/etc/passwd",
        "sha256:ab cd", "+sha256:ab", "sha256+:ab", "sha256::ab", "sha256:ab/cd",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: DigestError.self) { try Digest(parsing: text) }
        #expect(!Digest.isValid(text))
    }

    @Test func rejectsPathTricksAsMalformed() {
        #expect(throws: DigestError.malformed("sha256:../..")) { try Digest(parsing: "sha256:../..") }
    }

    @Test func unknownAlgorithmIsUnsupportedNotMalformed() {
        #expect(throws: DigestError.unsupportedAlgorithm("md5")) { try Digest(parsing: "md5:abc") }
        #expect(throws: DigestError.unsupportedAlgorithm("sha256+b64u")) { try Digest(parsing: "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564") }
    }

    @Test(arguments: [
        "sha256:" + String(repeating: "a", count: 63),
        "sha256:" + String(repeating: "a", count: 65),
        "sha256:" + String(repeating: "A", count: 64),
        "sha256:" + String(repeating: "g", count: 64),
        "sha512:" + String(repeating: "a", count: 64),
    ])
    func rejectsWrongEncoding(_ text: String) {
        #expect(throws: DigestError.invalidEncoding(text)) { try Digest(parsing: text) }
    }

    @Test func buildsFromRawBytes() {
        let d = Digest(algorithm: .sha256, rawBytes: [UInt8](repeating: 0xab, count: 32))
        #expect(d.description == "sha256:\(Self.sha256Hex)")
    }

    @Test func codableRoundTripAndRejectsBadStrings() throws {
        let d = try Digest(parsing: "sha256:\(Self.sha256Hex)")
        let data = try JSONEncoder().encode([d])
        #expect(String(decoding: data, as: UTF8.self) == "[\"sha256:\(Self.sha256Hex)\"]")
        #expect(try JSONDecoder().decode([Digest].self, from: data) == [d])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Digest].self, from: Data("[\"sha256:zz\"]".utf8)) }
    }
}
