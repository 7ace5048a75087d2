import Foundation
import KuraCore
import KuraMetadata
#if canImport(Glibc)
import Glibc
#endif

/// Keeps replication rules in the catalog (``ReplicationStore``), so every node sharing it
/// runs the same rules, with every password sealed by a ``SecretBox``; the record of runs
/// goes to `replication-runs.jsonl` in the node's data folder. Rules an older Kura kept in
/// `replication-rules.json` are moved into the catalog on first load.
struct ReplicationRuleStore: Sendable {
    let catalog: any ReplicationStore
    let legacyRulesPath: String
    let runsPath: String
    let box: SecretBox

    /// Passwords sealed with `sealingKey` or else the data folder's key.
    init(directory: String, catalog: any ReplicationStore, sealingKey: Data? = nil) throws {
        let folder = DataFolder(directory)
        self.catalog = catalog
        legacyRulesPath = folder.replicationRules
        runsPath = folder.replicationRuns
        box = try sealingKey.map { try SecretBox(keyData: $0) } ?? SecretBox(directory: directory)
    }

    /// A rule as stored: passwords sealed.
    private struct Stored: Codable {
        var rule: ReplicationRule
        var sealedRemotePassword: String?
        var sealedLocalPassword: String?
    }

    func load() async throws -> [ReplicationRule] {
        try await importLegacyFile()
        return try await rules()
    }

    /// The rules the catalog holds now (another node may have changed them).
    func rules() async throws -> [ReplicationRule] {
        try await catalog.replicationRules().map { record in
            let stored = try JSONDecoder().decode(Stored.self, from: Data(record.document))
            var rule = stored.rule
            if let sealed = stored.sealedRemotePassword { rule.remoteCredentials?.password = try box.open(sealed) }
            if let sealed = stored.sealedLocalPassword { rule.localCredentials?.password = try box.open(sealed) }
            return rule
        }
    }

    func save(_ rule: ReplicationRule) async throws {
        var plain = rule
        plain.remoteCredentials?.password = ""
        plain.localCredentials?.password = ""
        let stored = Stored(
            rule: plain, sealedRemotePassword: try rule.remoteCredentials.map { try box.seal($0.password) },
            sealedLocalPassword: try rule.localCredentials.map { try box.seal($0.password) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await catalog.putReplicationRule(ReplicationRuleRecord(name: rule.name, document: Array(try encoder.encode(stored))))
    }

    func delete(_ name: String) async throws -> Bool {
        try await catalog.deleteReplicationRule(named: name)
    }

    /// Moves the rules of `replication-rules.json` (written by an older Kura) into the
    /// catalog, keeping any rule of the same name the catalog already has, and renames the
    /// file `….imported`.
    private func importLegacyFile() async throws {
        guard let data = FileManager.default.contents(atPath: legacyRulesPath) else { return }
        let existing = Set(try await catalog.replicationRules().map(\.name))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for stored in try JSONDecoder().decode([Stored].self, from: data) where !existing.contains(stored.rule.name) {
            try await catalog.putReplicationRule(ReplicationRuleRecord(name: stored.rule.name, document: Array(try encoder.encode(stored))))
        }
        guard rename(legacyRulesPath, legacyRulesPath + ".imported") == 0 else {
            throw MirrorError.invalidArgument("cannot rename \(legacyRulesPath): errno \(errno)")
        }
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
