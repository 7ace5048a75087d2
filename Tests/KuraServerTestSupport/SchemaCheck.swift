import Foundation
import Testing

/// The admin API's OpenAPI document, `docs/admin-api.openapi.json` (served at
/// `/api/v1/openapi.json`).
public enum AdminAPIDocument {
    public static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/admin-api.openapi.json").path

    public static func load() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// Checks JSON values against the OpenAPI document's schemas: the subset it uses (`$ref`,
/// object properties/required/additionalProperties, arrays, string/integer/boolean, enums).
public struct SchemaCheck {
    public let document: [String: Any]

    public init(document: [String: Any]) { self.document = document }

    public func responseSchema(path: String, method: String, status: String) throws -> [String: Any] {
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let operation = try #require(paths[path]?[method] as? [String: Any], "\(method) \(path) is not documented")
        let responses = try #require(operation["responses"] as? [String: Any])
        let response = try #require(responses[status] as? [String: Any])
        let content = try #require(response["content"] as? [String: Any])
        let json = try #require(content["application/json"] as? [String: Any])
        return try #require(json["schema"] as? [String: Any])
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String else { return schema }
        let name = String(ref.split(separator: "/").last ?? "")
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
        return schemas?[name] as? [String: Any] ?? [:]
    }

    public func problems(_ value: Any, against raw: [String: Any], at place: String) -> [String] {
        let schema = resolve(raw)
        var found: [String] = []
        switch schema["type"] as? String {
        case "object":
            guard let object = value as? [String: Any] else { return ["\(place): not an object"] }
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil { found.append("\(place): \(key) is missing") }
            for (key, item) in object {
                if let property = properties[key] {
                    found += problems(item, against: property, at: "\(place).\(key)")
                } else if schema["additionalProperties"] as? Bool == false {
                    found.append("\(place): \(key) is not documented")
                }
            }
        case "array":
            guard let array = value as? [Any] else { return ["\(place): not an array"] }
            let items = schema["items"] as? [String: Any] ?? [:]
            for (index, item) in array.enumerated() { found += problems(item, against: items, at: "\(place)[\(index)]") }
        case "string":
            guard let string = value as? String else { return ["\(place): not a string"] }
            if let allowed = schema["enum"] as? [String], !allowed.contains(string) { found.append("\(place): \(string) is not one of \(allowed)") }
        case "integer":
            guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded() else { return ["\(place): not an integer"] }
        case "boolean":
            guard value is Bool else { return ["\(place): not a boolean"] }
        default:
            break
        }
        return found
    }
}
