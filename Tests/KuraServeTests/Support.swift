import Configuration
import Foundation
@testable import KuraServe

/// The repository's `docs/` folder.
let docsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("docs").path

/// Reads a configuration from YAML text, environment variables and flags, as `kura serve`
/// would, without a process or a file on disk.
func configuration(yaml: String? = nil, environment: [String: String] = [:], flags: [String: String] = [:]) throws -> ServerConfiguration {
    try ServerConfiguration(reading: sources(yaml: yaml, environment: environment, flags: flags))
}

func sources(yaml: String? = nil, environment: [String: String] = [:], flags: [String: String] = [:]) throws -> ConfigurationSources {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kura-serve-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var file: String?
    if let yaml {
        file = directory.appendingPathComponent("kura.yaml").path
        try yaml.write(toFile: file!, atomically: true, encoding: .utf8)
    }
    return try .serve(file: file, environment: environment, flags: flags)
}

/// The message a bad configuration is refused with.
func refusal(yaml: String? = nil, environment: [String: String] = [:], flags: [String: String] = [:]) -> String? {
    do {
        _ = try configuration(yaml: yaml, environment: environment, flags: flags)
        return nil
    } catch {
        return "\(error)"
    }
}
