/// A strict reading of JSON text (RFC 8259) that refuses what parsers disagree on.
///
/// Foundation's decoders keep one value of a duplicated object key and Go's `encoding/json`
/// keeps the last, so a manifest with `layers` twice means one thing to Kura and another to
/// the clients that pull it. Before any JSON a client sends is decoded, it is checked here:
/// duplicate keys (compared after unescaping, so `"l\u0061yers"` is `layers`), invalid UTF-8,
/// unpaired surrogate escapes, nesting deeper than a limit, and anything outside the grammar
/// are refused. No library on this machine offers a duplicate-key check, hence this scanner.
public enum StrictJSON {
    /// Why a text was refused; `offset` is the byte where the problem was found.
    public struct Violation: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public let offset: Int

        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// The deepest nesting of objects and arrays accepted by default. OCI manifests nest
    /// four or five levels; 64 leaves room for any honest document.
    public static let defaultMaxDepth = 64

    /// Checks that `bytes` hold exactly one JSON value and nothing an ambiguous or lenient
    /// parser could read differently. Throws ``Violation`` otherwise.
    public static func validate(_ bytes: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth) throws(Violation) {
        let array = Array(bytes)
        try array.withUnsafeBufferPointer { (buffer) throws(Violation) in
            var scanner = Scanner(bytes: buffer, maxDepth: maxDepth)
            try scanner.document()
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var position = 0
        var depth = 0

        init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        mutating func document() throws(Violation) {
            skipWhitespace()
            try value()
            skipWhitespace()
            guard position == bytes.count else { throw fail("unexpected content after the JSON value") }
        }

        private func fail(_ reason: String) -> Violation { Violation(reason: reason, offset: position) }

        private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        private mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
        }

        private mutating func expect(_ byte: UInt8, _ what: String) throws(Violation) {
            guard current == byte else { throw fail("expected \(what)") }
            position += 1
        }

        private mutating func value() throws(Violation) {
            guard let byte = current else { throw fail("unexpected end of JSON") }
            switch byte {
            case UInt8(ascii: "{"): try object()
            case UInt8(ascii: "["): try array()
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw fail("unexpected character")
            }
        }

        private mutating func enter() throws(Violation) {
            depth += 1
            guard depth <= maxDepth else { throw fail("JSON nested deeper than \(maxDepth) levels") }
        }

        private mutating func object() throws(Violation) {
            try enter()
            position += 1
            var keys = Set<[UInt8]>()
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                position += 1
                depth -= 1
                return
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw fail("expected an object key") }
                let keyStart = position
                let key = try string()
                guard keys.insert(key).inserted else {
                    position = keyStart
                    throw fail("duplicate key \"\(String(decoding: key, as: UTF8.self))\"")
                }
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':' after an object key")
                skipWhitespace()
                try value()
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "}"), "',' or '}' in an object")
                depth -= 1
                return
            }
        }

        private mutating func array() throws(Violation) {
            try enter()
            position += 1
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                position += 1
                depth -= 1
                return
            }
            while true {
                skipWhitespace()
                try value()
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "]"), "',' or ']' in an array")
                depth -= 1
                return
            }
        }

        private mutating func literal(_ word: StaticString) throws(Violation) {
            let count = word.utf8CodeUnitCount
            guard bytes.count - position >= count else { throw fail("invalid literal") }
            for index in 0..<count where bytes[position + index] != word.utf8Start[index] {
                throw fail("invalid literal")
            }
            position += count
        }

        private mutating func digits() -> Int {
            let start = position
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { position += 1 }
            return position - start
        }

        private mutating func number() throws(Violation) {
            if current == UInt8(ascii: "-") { position += 1 }
            if current == UInt8(ascii: "0") {
                position += 1
            } else {
                guard digits() > 0 else { throw fail("invalid number") }
            }
            if current == UInt8(ascii: ".") {
                position += 1
                guard digits() > 0 else { throw fail("invalid number") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard digits() > 0 else { throw fail("invalid number") }
            }
        }

        /// Reads a string and returns its unescaped UTF-8 bytes.
        private mutating func string() throws(Violation) -> [UInt8] {
            position += 1  // the opening quote
            var decoded: [UInt8] = []
            while true {
                guard let byte = current else { throw fail("unterminated string") }
                switch byte {
                case UInt8(ascii: "\""):
                    position += 1
                    return decoded
                case UInt8(ascii: "\\"):
                    position += 1
                    try escape(into: &decoded)
                case 0x00..<0x20:
                    throw fail("control character in a string")
                case 0x00..<0x80:
                    decoded.append(byte)
                    position += 1
                default:
                    try multibyte(into: &decoded)
                }
            }
        }

        private mutating func escape(into decoded: inout [UInt8]) throws(Violation) {
            guard let byte = current else { throw fail("unterminated escape") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(byte)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate escape")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("unpaired surrogate escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid escape") }
                decoded.append(contentsOf: unicode.utf8)
            default:
                throw fail("invalid escape")
            }
        }

        private mutating func hex4() throws(Violation) -> UInt32 {
            guard bytes.count - position >= 4 else { throw fail("invalid \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("invalid \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        /// One UTF-8 sequence of two to four bytes, checked as RFC 3629 requires (no overlong
        /// forms, no surrogates, nothing above U+10FFFF).
        private mutating func multibyte(into decoded: inout [UInt8]) throws(Violation) {
            let lead = bytes[position]
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: throw fail("invalid UTF-8")
            }
            guard bytes.count - position >= length else { throw fail("invalid UTF-8") }
            for index in 1..<length {
                let byte = bytes[position + index]
                let (low, high) = index == 1 ? (lower, upper) : (0x80, 0xBF)
                guard byte >= low, byte <= high else { throw fail("invalid UTF-8") }
            }
            decoded.append(contentsOf: bytes[position..<(position + length)])
            position += length
        }
    }
}
