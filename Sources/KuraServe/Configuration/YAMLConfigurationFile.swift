public import Configuration
import Foundation
import Yams

/// `kura serve`'s YAML file as a configuration provider. swift-configuration's own
/// `YAMLSnapshot` refuses sequences of mappings, and `listeners:` and `proxies:` are such
/// lists, so the file is flattened here: mappings become dotted keys, a list of mappings
/// becomes indexed keys (`listeners.0.address`), a list of scalars a string array.
public enum YAMLConfigurationFile {
    /// Reads and flattens `path`; errors name the file.
    public static func provider(path: String) throws -> InMemoryProvider {
        let bytes: Data
        do {
            // An empty file is not read: Foundation (Swift 6.3.1) leaks its 4 KiB read buffer
            // for one (found by FuzzConfiguration under LeakSanitizer).
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let isEmptyFile = attributes[.type] as? FileAttributeType == .typeRegular && (attributes[.size] as? NSNumber)?.intValue == 0
            bytes = isEmptyFile ? Data() : try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError("cannot read configuration file \(path): \(error.localizedDescription)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError("invalid configuration file \(path): not UTF-8 text")
        }
        do { return InMemoryProvider(name: "file \(path)", values: try values(yaml: text)) } catch let error as ConfigurationError {
            throw ConfigurationError("invalid configuration file \(path): \(error.description)")
        } catch {
            throw ConfigurationError("invalid configuration file \(path): \(error)")
        }
    }

    /// The flattened values of a YAML document (an empty document has none).
    public static func values(yaml: String) throws -> [AbsoluteConfigKey: ConfigValue] {
        guard let root = try Yams.compose(yaml: yaml) else { return [:] }
        guard let mapping = root.mapping else { throw ConfigurationError("the top level must be a mapping of keys") }
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        try flatten(mapping, prefix: [], into: &values)
        return values
    }

    private static func flatten(_ mapping: Node.Mapping, prefix: [String], into values: inout [AbsoluteConfigKey: ConfigValue]) throws {
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw ConfigurationError("a key under \(prefix.joined(separator: ".")) is not a string") }
            try flatten(value, path: prefix + [key], into: &values)
        }
    }

    private static func flatten(_ node: Node, path: [String], into values: inout [AbsoluteConfigKey: ConfigValue]) throws {
        switch node {
        case .mapping(let mapping):
            try flatten(mapping, prefix: path, into: &values)
        case .sequence(let sequence):
            if sequence.allSatisfy({ $0.scalar != nil }) {
                values[AbsoluteConfigKey(path)] = ConfigValue(.stringArray(sequence.compactMap { $0.scalar?.string }), isSecret: false)
            } else {
                for (index, item) in sequence.enumerated() {
                    guard let mapping = item.mapping else {
                        throw ConfigurationError("\(path.joined(separator: "."))[\(index)] mixes values and mappings")
                    }
                    try flatten(mapping, prefix: path + [String(index)], into: &values)
                }
            }
        case .scalar(let scalar):
            // `key:` with nothing after it is YAML's null: the key is not set.
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return }
            values[AbsoluteConfigKey(path)] = ConfigValue(.string(scalar.string), isSecret: false)
        case .alias:
            throw ConfigurationError("\(path.joined(separator: ".")): YAML aliases are not supported")
        }
    }
}
