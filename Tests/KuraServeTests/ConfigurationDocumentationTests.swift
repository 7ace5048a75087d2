import Configuration
import Foundation
import Testing
@testable import KuraServe

/// The documentation of the configuration is complete: a key added without its line in
/// `docs/kura.example.yaml` and its row (with its environment variable) in
/// `docs/configuration.md` fails here.
@Suite struct ConfigurationDocumentationTests {
    static let keys = ServerConfiguration.configurationKeys

    static func exampleText() throws -> String {
        try String(contentsOfFile: "\(docsDirectory)/kura.example.yaml", encoding: .utf8)
    }

    /// The example with its `# key:` lines switched on: every key the file documents.
    static func documentedPatterns() throws -> Set<String> {
        let uncommented = try exampleText().split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard let range = line.range(of: #"^(\s*)# "#, options: .regularExpression) else { return String(line) }
            return line[range].replacingOccurrences(of: "# ", with: "") + line[range.upperBound...]
        }
        let values = try YAMLConfigurationFile.values(yaml: uncommented.joined(separator: "\n"))
        return Set(values.keys.map { ConfigurationKey.pattern(of: $0.components.joined(separator: ".")) })
    }

    @Test func everyKeyHasItsLineInTheExampleFile() throws {
        let documented = try Self.documentedPatterns()
        for key in Self.keys {
            #expect(documented.contains(key.path), "docs/kura.example.yaml has no line for \(key.path)")
        }
    }

    @Test func theExampleFileDocumentsNoUnknownKey() throws {
        let declared = Set(Self.keys.map(\.path))
        for path in try Self.documentedPatterns() {
            #expect(declared.contains(path), "docs/kura.example.yaml documents \(path), which no settings struct reads")
        }
    }

    @Test func everyKeyHasItsVariableInTheReference() throws {
        let reference = try String(contentsOfFile: "\(docsDirectory)/configuration.md", encoding: .utf8)
        for key in Self.keys {
            #expect(reference.contains("| `\(key.path)` | `\(key.environmentVariable)` |"), "docs/configuration.md has no row for \(key.path)")
        }
    }

    @Test func helpListsEveryKeyAndVariable() {
        let help = ServerConfiguration.keysHelp
        for key in Self.keys {
            #expect(help.contains("\(key.path) / \(key.environmentVariable)"), "kura serve --help misses \(key.path)")
        }
    }

    /// The example sets every key that has a default to that default, and reading it
    /// gives the same configuration as reading nothing.
    @Test func theExampleFileDecodesToTheDefaults() throws {
        let values = try YAMLConfigurationFile.values(yaml: try Self.exampleText())
        for key in Self.keys where !key.path.contains("*") {
            let set = values[AbsoluteConfigKey(key.path.split(separator: ".").map(String.init))]
            if let defaultValue = key.defaultValue {
                #expect(set == ConfigValue(.string(defaultValue), isSecret: false), "\(key.path): the example says \(String(describing: set)), the default is \(defaultValue)")
            } else {
                #expect(set == nil, "\(key.path) has no default, so the example leaves it commented out")
            }
        }
        let fromExample = try configuration(yaml: try Self.exampleText())
        let fromNothing = try configuration()
        #expect(String(reflecting: fromExample) == String(reflecting: fromNothing))
    }

    @Test func declaredDefaultsAreValid() throws {
        // Reading no source at all succeeds: the defaults pass their own checks.
        let defaults = try configuration()
        #expect(defaults.port == 5000 && defaults.host == "127.0.0.1")
        #expect(defaults.metricsListen?.port == 5001)
        #expect(defaults.listeners.isEmpty && defaults.proxies.isEmpty)
    }
}
