import Foundation
import Testing
@testable import KuraServe

/// Bad values are refused in-process, with a message naming the key (and its variable).
@Suite struct ConfigurationValidationTests {
    @Test(arguments: [
        ("gc:\n  intervalSeconds: 0\n", "gc.intervalSeconds must be positive, not 0 (KURA_GC_INTERVAL_SECONDS)"),
        ("gc:\n  intervalSeconds: daily\n", "gc.intervalSeconds must be an integer, not daily"),
        ("gc:\n  enabled: maybe\n", "gc.enabled must be true or false, not maybe (KURA_GC_ENABLED)"),
        ("port: 70000\n", "port must be between 0 and 65535, not 70000 (KURA_PORT)"),
        ("port: [1, 2]\n", "port must be a single value, not a list"),
        ("metricsListen: nowhere\n", "metricsListen must be HOST:PORT, not nowhere (KURA_METRICS_LISTEN)"),
        ("log:\n  level: loud\n", "log.level must be one of trace, debug, info, notice, warning, error, critical, not loud"),
        ("limits:\n  maxManifestBytes: -1\n", "limits.maxManifestBytes must be positive"),
        ("limits:\n  requestsPerMinutePerKey: -5\n", "limits.requestsPerMinutePerKey must be 0 (off) or more, not -5"),
        ("access:\n  tokenLifetimeSeconds: 0\n", "access.tokenLifetimeSeconds must be positive"),
        ("usage:\n  flushIntervalSeconds: 0\n", "usage.flushIntervalSeconds must be positive"),
        ("webhooks:\n  maxAttempts: 0\n", "webhooks.maxAttempts must be positive, not 0 (KURA_WEBHOOKS_MAX_ATTEMPTS)"),
        ("tls:\n  reloadIntervalSeconds: 0\n", "tls.reloadIntervalSeconds must be positive"),
        ("storage:\n  backend: ftp\n", "storage.backend must be filesystem or s3, not ftp"),
        ("storage:\n  backend: s3\n", "storage.s3.endpoint is required with storage.backend s3"),
        ("storage:\n  backend: s3\n  s3:\n    endpoint: http://127.0.0.1:1\n    bucket: b\n    addressing: sideways\n", "storage.s3.addressing must be path or virtual, not sideways"),
        ("storage:\n  cache:\n    path: /tmp/x\n", "storage.cache.maxBytes is required with storage.cache.path"),
        ("storage:\n  redirectPullsSeconds: 60\n", "storage.redirectPullsSeconds needs the s3 backend"),
        ("storage:\n  redirectPullsSeconds: 0\n", "storage.redirectPullsSeconds must be between 1 and 604800 (7 days), not 0"),
        ("proxies:\n  - namespace: hub\n    upstream: https://registry-1.docker.io\n    fillWindowBytes: 0\n", "proxies.hub.fillWindowBytes must be positive"),
        ("proxies:\n  - namespace: a/b\n    upstream: https://registry-1.docker.io\n", "proxies.0.namespace must be a namespace name"),
        ("proxies:\n  - namespace: hub\n    upstream: https://x\n    username: me\n", "passwordFile go together"),
        ("listeners:\n  - address: 127.0.0.1:0\n    allow: [10.0.0.1/8]\n", "bits set after the prefix"),
        ("listeners:\n  - address: 127.0.0.1:0\n    apis: [v2, graphql]\n", "unknown API graphql"),
        ("listeners:\n  - name: a\n    address: nowhere\n", "listeners[a].address must be HOST:PORT"),
        ("listeners:\n  - name: a\n    apis: [v2]\n", "listeners[a].address is required"),
        ("listeners:\n  - address: 127.0.0.1:0\n    tls:\n      certificate: /x.crt\n", "tls needs certificate and key"),
        ("listen: 127.0.0.1:0\nlisteners:\n  - address: 127.0.0.1:0\n", "not both"),
        ("listeners:\n  - name: p\n    address: 127.0.0.1:0\n    allow: []\n", "listeners[p].allow is empty"),
        ("listeners:\n  - name: p\n    address: 127.0.0.1:0\n  - name: p\n    address: 127.0.0.1:1\n", "two listeners are named p"),
        ("listeners:\n  - address: 127.0.0.1:7000\n  - address: 127.0.0.1:7000\n", "two listeners use 127.0.0.1:7000"),
        ("- just\n- a list\n", "the top level must be a mapping"),
    ])
    func badFileValueIsRefusedNamingItsKey(_ yaml: String, _ message: String) {
        let refused = refusal(yaml: yaml)
        #expect(refused?.contains(message) == true, "\(refused ?? "accepted")")
    }

    @Test(arguments: [
        (["KURA_GC_INTERVAL_SECONDS": "-1"], "gc.intervalSeconds must be positive, not -1 (KURA_GC_INTERVAL_SECONDS)"),
        (["KURA_PORT": "http"], "port must be an integer, not http (KURA_PORT)"),
        (["KURA_ACCESS_ENABLED": "perhaps"], "access.enabled must be true or false, not perhaps"),
        (["KURA_MAX_MANIFEST_BYTES": "0"], "limits.maxManifestBytes must be positive"),
        (["KURA_LISTEN": "5000"], "listen must be HOST:PORT, not 5000 (KURA_LISTEN)"),
        (["KURA_STORAGE_BACKEND": "tape"], "storage.backend must be filesystem or s3, not tape (KURA_STORAGE_BACKEND)"),
    ])
    func badEnvironmentValueIsRefusedNamingItsKey(_ environment: [String: String], _ message: String) {
        let refused = refusal(environment: environment)
        #expect(refused?.contains(message) == true, "\(refused ?? "accepted")")
    }

    @Test func hostAndPortVariablesDoNotSilentlyMissAListenersList() {
        let refused = refusal(yaml: "listeners:\n  - address: 127.0.0.1:0\n", environment: ["KURA_PORT": "5999"])
        #expect(refused?.contains("use KURA_LISTEN to replace them") == true, "\(refused ?? "accepted")")
    }

    @Test func badFlagIsRefusedNamingItsKey() {
        let refused = refusal(flags: ["log.level": "chatty"])
        #expect(refused?.contains("log.level must be one of") == true, "\(refused ?? "accepted")")
    }

    @Test func unreadableFileIsNamed() {
        do {
            _ = try ConfigurationSources.serve(file: "/nonexistent/kura.yaml", environment: [:])
            Issue.record("a missing file was accepted")
        } catch {
            #expect("\(error)".contains("cannot read configuration file /nonexistent/kura.yaml"))
        }
    }

    /// An empty file is an empty configuration (not read through Foundation, which leaks on
    /// one); bytes that are not UTF-8 are refused by name.
    @Test func emptyFileAndNonUTF8() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kura-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = folder.appendingPathComponent("empty.yaml").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(try ServerConfiguration(reading: .serve(file: empty, environment: [:])).log.level == ServerConfiguration().log.level)

        let latin1 = folder.appendingPathComponent("latin1.yaml").path
        #expect(FileManager.default.createFile(atPath: latin1, contents: Data([0x6C, 0x6F, 0x67, 0x3A, 0x20, 0xE9, 0x0A])))
        #expect(throws: (any Error).self) { try YAMLConfigurationFile.provider(path: latin1) }
        do { _ = try YAMLConfigurationFile.provider(path: latin1) } catch { #expect("\(error)".contains("not UTF-8")) }
    }
}
