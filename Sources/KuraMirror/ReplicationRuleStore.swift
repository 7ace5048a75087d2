import Foundation
import KuraCore
#if canImport(Glibc)
import Glibc
#endif

/// Keeps replication rules in `replication-rules.json` in the data folder, with every
/// password sealed by a ``SecretBox``, and the record of runs in `replication-runs.jsonl`.
struct ReplicationRuleStore: Sendable {
    let rulesPath: String
    let runsPath: String
    let box: SecretBox

    /// Rules in `directory`, passwords sealed with `sealingKey` or else the data folder's key.
    init(directory: String, sealingKey: Data? = nil) throws {
        let folder = DataFolder(directory)
        rulesPath = folder.replicationRules
        runsPath = folder.replicationRuns
        box = try sealingKey.map { try SecretBox(keyData: $0) } ?? SecretBox(directory: directory)
    }

    /// A rule as stored: passwords sealed.
    private struct Stored: Codable {
        var rule: ReplicationRule
        var sealedRemotePassword: String?
        var sealedLocalPassword: String?
    }

    func load() throws -> [ReplicationRule] {
        guard let data = FileManager.default.contents(atPath: rulesPath) else { return [] }
        return try JSONDecoder().decode([Stored].self, from: data).map { stored in
            var rule = stored.rule
            if let sealed = stored.sealedRemotePassword { rule.remoteCredentials?.password = try box.open(sealed) }
            if let sealed = stored.sealedLocalPassword { rule.localCredentials?.password = try box.open(sealed) }
            return rule
        }
    }

    func save(_ rules: [ReplicationRule]) throws {
        let stored = try rules.map { rule in
            var plain = rule
            plain.remoteCredentials?.password = ""
            plain.localCredentials?.password = ""
            return Stored(
                rule: plain, sealedRemotePassword: try rule.remoteCredentials.map { try box.seal($0.password) },
                sealedLocalPassword: try rule.localCredentials.map { try box.seal($0.password) })
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(stored)
        // Write aside, then rename: a crash never leaves half a file.
        let temporary = rulesPath + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw MirrorError.invalidArgument("cannot write \(temporary)")
        }
        guard rename(temporary, rulesPath) == 0 else { throw MirrorError.invalidArgument("cannot replace \(rulesPath): errno \(errno)") }
    }

    func append(_ run: ReplicationRun) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        guard var line = try? encoder.encode(run) else { return }
        line.append(0x0A)
        if let handle = FileHandle(forWritingAtPath: runsPath) {
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: line)
        } else {
            _ = FileManager.default.createFile(atPath: runsPath, contents: line, attributes: [.posixPermissions: 0o600])
        }
    }
}
