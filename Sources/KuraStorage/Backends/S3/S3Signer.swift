import CKuraOpenSSL
public import Foundation

/// Access keys for AWS Signature Version 4.
public struct S3Credentials: Sendable, Hashable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// The token of temporary credentials (`AWS_SESSION_TOKEN`), sent as `x-amz-security-token`.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// AWS Signature Version 4: `Authorization` headers and presigned query strings.
///
/// The signer is given paths that are already URI-encoded (see ``S3Signer/encodePath(_:)``)
/// and raw query parameters, and signs exactly the headers it is handed. It does not
/// normalise paths: S3 signs the path as sent.
public struct S3Signer: Sendable {
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public var credentials: S3Credentials
    public var region: String
    public var service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Signs a request: returns the headers to add (`x-amz-date`, `Authorization`, and
    /// `x-amz-security-token` with temporary credentials). `headers` must already contain
    /// `host` and, for S3, `x-amz-content-sha256`; every header given is signed.
    public func sign(
        method: String, encodedPath: String, query: [(String, String)], headers: [(String, String)],
        payloadHash: String, date: Date = Date()
    ) -> [(String, String)] {
        let (stamp, day) = Self.timestamps(date)
        var all = headers.map { ($0.0.lowercased(), Self.trimHeaderValue($0.1)) }
        all.append(("x-amz-date", stamp))
        if let token = credentials.sessionToken { all.append(("x-amz-security-token", token)) }
        all.sort { $0.0 < $1.0 }
        let signedHeaders = all.map(\.0).joined(separator: ";")
        let canonical = [
            method, encodedPath, Self.canonicalQuery(query),
            all.map { "\($0.0):\($0.1)\n" }.joined(), signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let signature = self.signature(canonicalRequest: canonical, stamp: stamp, day: day, scope: scope)
        var added: [(String, String)] = [("x-amz-date", stamp)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        added.append((
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        ))
        return added
    }

    /// A presigned query string (without the `?`) that authorises `method` on the path for
    /// `expires` seconds; only the `host` header is signed and the payload is unsigned.
    public func presignedQuery(
        method: String, encodedPath: String, host: String, query: [(String, String)] = [], expires: Int, date: Date = Date()
    ) -> String {
        let (stamp, day) = Self.timestamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        var parameters = query
        parameters.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        parameters.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"))
        parameters.append(("X-Amz-Date", stamp))
        parameters.append(("X-Amz-Expires", String(expires)))
        if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        parameters.append(("X-Amz-SignedHeaders", "host"))
        let canonicalQuery = Self.canonicalQuery(parameters)
        let canonical = [method, encodedPath, canonicalQuery, "host:\(host)\n", "host", Self.unsignedPayload]
            .joined(separator: "\n")
        let signature = self.signature(canonicalRequest: canonical, stamp: stamp, day: day, scope: scope)
        return "\(canonicalQuery)&X-Amz-Signature=\(signature)"
    }

    private func signature(canonicalRequest: String, stamp: String, day: String, scope: String) -> String {
        let toSign = ["AWS4-HMAC-SHA256", stamp, scope, Self.hex(Self.sha256(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = Self.hmac(key: Array("AWS4\(credentials.secretAccessKey)".utf8), data: Array(day.utf8))
        key = Self.hmac(key: key, data: Array(region.utf8))
        key = Self.hmac(key: key, data: Array(service.utf8))
        key = Self.hmac(key: key, data: Array("aws4_request".utf8))
        return Self.hex(Self.hmac(key: key, data: Array(toSign.utf8)))
    }

    // MARK: pieces

    static func timestamps(_ date: Date) -> (stamp: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ v: Int?, _ width: Int = 2) -> String {
            let s = String(v ?? 0)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let day = "\(pad(c.year, 4))\(pad(c.month))\(pad(c.day))"
        return ("\(day)T\(pad(c.hour))\(pad(c.minute))\(pad(c.second))Z", day)
    }

    static func canonicalQuery(_ query: [(String, String)]) -> String {
        var pairs: [(name: String, value: String)] = []
        for (name, value) in query { pairs.append((uriEncode(name), uriEncode(value))) }
        pairs.sort { (a: (name: String, value: String), b: (name: String, value: String)) -> Bool in
            a.name == b.name ? a.value < b.value : a.name < b.name
        }
        var parts: [String] = []
        for pair in pairs { parts.append(pair.name + "=" + pair.value) }
        return parts.joined(separator: "&")
    }

    private static func trimHeaderValue(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// RFC 3986 encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~` is `%XX`;
    /// `/` too unless `keepSlash`.
    public static func uriEncode(_ string: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                let hexDigits = Array("0123456789ABCDEF")
                out.append("%")
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// Encodes an object path (`/bucket/key`) for the request line and the signature.
    public static func encodePath(_ path: String) -> String { uriEncode(path, keepSlash: true) }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        bytes.withUnsafeBufferPointer { input in _ = SHA256(input.baseAddress, input.count, &out) }
        return out
    }

    static func sha256Hex(_ bytes: some Collection<UInt8>) -> String { hex(sha256(Array(bytes))) }

    static func hmac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), d.baseAddress, d.count, &out, &length)
            }
        }
        return Array(out.prefix(Int(length)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return out
    }
}
