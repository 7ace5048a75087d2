/// A minimal XML reader for S3's response bodies (ListObjectsV2, multipart upload calls,
/// errors): elements, attributes ignored, text with the five named entities and numeric
/// character references decoded, comments/processing instructions/CDATA handled. Not a
/// general XML parser; it never needs to be one.
struct S3XMLElement: Sendable {
    var name: String
    var children: [S3XMLElement] = []
    var text: String = ""

    /// The first child named `name`.
    func child(_ name: String) -> S3XMLElement? { children.first { $0.name == name } }

    /// Every child named `name`.
    func children(_ name: String) -> [S3XMLElement] { children.filter { $0.name == name } }

    /// The text of the first child named `name`.
    func value(_ name: String) -> String? { child(name)?.text }

    /// Parses a document and returns its root element.
    static func parse(_ bytes: [UInt8]) throws(StorageError) -> S3XMLElement {
        var stack: [S3XMLElement] = [S3XMLElement(name: "#document")]
        var i = 0
        let n = bytes.count
        func starts(_ s: String, at index: Int) -> Bool {
            let u = Array(s.utf8)
            return index + u.count <= n && Array(bytes[index..<index + u.count]) == u
        }
        func find(_ s: String, from index: Int) -> Int? {
            let u = Array(s.utf8)
            var j = index
            while j + u.count <= n {
                if bytes[j] == u[0] && Array(bytes[j..<j + u.count]) == u { return j }
                j += 1
            }
            return nil
        }
        while i < n {
            if bytes[i] == UInt8(ascii: "<") {
                if starts("<?", at: i) {
                    guard let end = find("?>", from: i) else { throw .backend("S3: malformed XML") }
                    i = end + 2
                } else if starts("<!--", at: i) {
                    guard let end = find("-->", from: i) else { throw .backend("S3: malformed XML") }
                    i = end + 3
                } else if starts("<![CDATA[", at: i) {
                    guard let end = find("]]>", from: i) else { throw .backend("S3: malformed XML") }
                    stack[stack.count - 1].text += String(decoding: bytes[(i + 9)..<end], as: UTF8.self)
                    i = end + 3
                } else if starts("<!", at: i) {
                    guard let end = find(">", from: i) else { throw .backend("S3: malformed XML") }
                    i = end + 1
                } else if starts("</", at: i) {
                    guard let end = find(">", from: i), stack.count > 1 else { throw .backend("S3: malformed XML") }
                    let name = String(decoding: bytes[(i + 2)..<end], as: UTF8.self).trimmingSpaces
                    let element = stack.removeLast()
                    guard element.name == name else { throw .backend("S3: malformed XML (</\(name)>)") }
                    stack[stack.count - 1].children.append(element)
                    i = end + 1
                } else {
                    guard let end = find(">", from: i) else { throw .backend("S3: malformed XML") }
                    let selfClosing = bytes[end - 1] == UInt8(ascii: "/")
                    let inner = bytes[(i + 1)..<(selfClosing ? end - 1 : end)]
                    let nameEnd = inner.firstIndex { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D } ?? inner.endIndex
                    let name = String(decoding: inner[inner.startIndex..<nameEnd], as: UTF8.self)
                    let element = S3XMLElement(name: name)
                    if selfClosing {
                        stack[stack.count - 1].children.append(element)
                    } else {
                        stack.append(element)
                    }
                    i = end + 1
                }
            } else {
                let end = bytes[i...].firstIndex(of: UInt8(ascii: "<")) ?? n
                if stack.count > 1 {
                    stack[stack.count - 1].text += decodeEntities(String(decoding: bytes[i..<end], as: UTF8.self))
                }
                i = end
            }
        }
        guard stack.count == 1, let root = stack[0].children.first else { throw .backend("S3: malformed XML") }
        return root
    }

    static func decodeEntities(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                var scalar: Unicode.Scalar?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst(1)).flatMap(Unicode.Scalar.init)
                }
                if let scalar { out.unicodeScalars.append(scalar) } else { out += rest[amp...semi] }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    /// Escapes text for an XML body we send.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }.reversed().drop {
            $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r"
        }.reversed())
    }
}

/// What S3 answered to ListObjectsV2.
struct S3ListResult: Sendable {
    struct Entry: Sendable {
        var key: String
        var size: Int64
        var modified: String
    }
    var entries: [Entry]
    var isTruncated: Bool
    var nextContinuationToken: String?

    init(xml root: S3XMLElement) throws(StorageError) {
        guard root.name == "ListBucketResult" else { throw .backend("S3: unexpected list response <\(root.name)>") }
        entries = try root.children("Contents").map { (c: S3XMLElement) throws(StorageError) -> Entry in
            guard let key = c.value("Key"), let size = c.value("Size").flatMap({ Int64($0) }) else {
                throw .backend("S3: list entry without key or size")
            }
            return Entry(key: key, size: size, modified: c.value("LastModified") ?? "")
        }
        isTruncated = root.value("IsTruncated") == "true"
        nextContinuationToken = root.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// What S3 answered to ListParts.
public struct S3PartListing: Sendable {
    public struct Part: Sendable, Hashable {
        public var number: Int
        public var etag: String
        public var size: Int64
    }
    public var parts: [Part]
    var isTruncated: Bool
    var nextMarker: String?

    init(xml root: S3XMLElement) throws(StorageError) {
        guard root.name == "ListPartsResult" else { throw .backend("S3: unexpected list-parts response <\(root.name)>") }
        parts = try root.children("Part").map { (p: S3XMLElement) throws(StorageError) -> Part in
            guard let number = p.value("PartNumber").flatMap({ Int($0) }), let size = p.value("Size").flatMap({ Int64($0) })
            else { throw .backend("S3: part without number or size") }
            return Part(number: number, etag: p.value("ETag") ?? "", size: size)
        }
        isTruncated = root.value("IsTruncated") == "true"
        nextMarker = root.value("NextPartNumberMarker")
    }
}
