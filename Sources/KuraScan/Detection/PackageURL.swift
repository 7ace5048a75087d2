/// Builds package URLs (purl-spec): `pkg:type/namespace/name@version?qualifiers`, each
/// part percent-encoded, qualifiers sorted by key.
enum PackageURL {
    static func make(type: String, namespace: String? = nil, name: String, version: String, qualifiers: [String: String] = [:]) -> String {
        var purl = "pkg:\(type)/"
        if let namespace, !namespace.isEmpty {
            purl += namespace.split(separator: "/").map { encode(String($0)) }.joined(separator: "/") + "/"
        }
        purl += encode(name) + "@" + encode(version)
        let query = qualifiers.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { "\($0.key)=\(encode($0.value))" }
        if !query.isEmpty { purl += "?" + query.joined(separator: "&") }
        return purl
    }

    private static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            if byte.isASCIIDigit || byte.isASCIILetter || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~") {
                result.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
