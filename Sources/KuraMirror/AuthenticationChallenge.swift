/// A parsed `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"` or
/// `Basic realm="…"`.
struct AuthenticationChallenge: Sendable, Equatable {
    enum Scheme: Sendable, Equatable {
        case basic
        case bearer
    }

    var scheme: Scheme
    var parameters: [String: String]

    var realm: String? { parameters["realm"] }
    var service: String? { parameters["service"] }

    /// Parses the first challenge of a header value; nil for schemes other than Basic/Bearer.
    init?(header: String) {
        let trimmed = header.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " ") ?? (trimmed.isEmpty ? nil : trimmed.endIndex) else { return nil }
        switch trimmed[..<space].lowercased() {
        case "bearer": scheme = .bearer
        case "basic": scheme = .basic
        default: return nil
        }
        parameters = Self.parameters(trimmed[space...])
    }

    /// `key="quoted, value",key2=token` → dictionary (keys lowercased).
    private static func parameters(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        var rest = text[...]
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingSpaces.lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = String(rest[..<end].trimmingSpaces)
                rest = rest[end...]
            }
            result[key] = value
        }
        return result
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var trimmed = drop { $0 == " " }
        while trimmed.last == " " { trimmed = trimmed.dropLast() }
        return trimmed
    }
}
