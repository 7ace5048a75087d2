import Configuration
import Testing
@testable import KuraServe

/// Precedence (defaults < file < environment < flags), the environment rule, and the
/// older variable names.
@Suite struct ConfigurationSourcesTests {
    @Test func laterSourcesWin() throws {
        let yaml = "port: 6000\ndataDirectory: /from/file\ngc:\n  intervalSeconds: 60\n"
        let fileOnly = try configuration(yaml: yaml)
        #expect(fileOnly.port == 6000 && fileOnly.dataDirectory == "/from/file" && fileOnly.gc.intervalSeconds == 60)
        let withEnvironment = try configuration(yaml: yaml, environment: ["KURA_PORT": "6001", "KURA_DATA_DIRECTORY": "/from/env"])
        #expect(withEnvironment.port == 6001 && withEnvironment.dataDirectory == "/from/env" && withEnvironment.gc.intervalSeconds == 60)
        let withFlags = try configuration(yaml: yaml, environment: ["KURA_DATA_DIRECTORY": "/from/env"], flags: ["dataDirectory": "/from/flag"])
        #expect(withFlags.dataDirectory == "/from/flag")
    }

    /// Every key's documented variable is the one swift-configuration's environment
    /// provider reads for it.
    @Test func everyKeyIsReadFromItsVariable() throws {
        let keys = ServerConfiguration.configurationKeys
        for key in keys {
            let path = key.path.replacingOccurrences(of: "*", with: "0")
            let variable = ConfigurationKey.environmentVariable(for: path)
            #expect(variable == key.environmentVariable.replacingOccurrences(of: "<n>", with: "0"))
            let reader = SettingsReader(sources: try sources(environment: [variable: "probe"]), keys: keys)
            #expect(try reader.setValue(path) == "probe", "\(variable) does not set \(key.path)")
        }
    }

    @Test func olderVariableNamesStillWork() throws {
        let read = try configuration(environment: [
            "KURA_DATA_DIR": "/old", "KURA_MAX_MANIFEST_BYTES": "1000", "KURA_MAX_BLOB_BYTES": "2000",
            "KURA_REQUESTS_PER_MINUTE_PER_KEY": "7", "KURA_REQUESTS_PER_MINUTE_PER_ADDRESS": "8",
            "KURA_AUTO_CREATE_NAMESPACES": "yes", "KURA_ACCESS_LOG": "/var/log/kura.jsonl",
        ])
        #expect(read.dataDirectory == "/old" && read.limits.maxManifestBytes == 1000 && read.limits.maxBlobBytes == 2000)
        #expect(read.requestRates.perKeyPerMinute == 7 && read.requestRates.perAddressPerMinute == 8)
        #expect(read.access.autoCreateNamespaces && read.accessLog.enabled && read.accessLog.path == "/var/log/kura.jsonl")
        #expect(try !configuration(environment: ["KURA_ACCESS_LOG": "off"]).accessLog.enabled)
        // The rule's name wins over the older one.
        #expect(try configuration(environment: ["KURA_DATA_DIR": "/old", "KURA_DATA_DIRECTORY": "/new"]).dataDirectory == "/new")
    }

    @Test func listenersComeFromTheFileAndListenReplacesThem() throws {
        let yaml = """
            listeners:
              - name: public
                address: 0.0.0.0:5443
                apis: [v2]
                anonymousPull: false
                allow: [10.0.0.0/8]
                trustedProxies: [127.0.0.1/32]
              - address: 127.0.0.1:5001
            """
        let read = try configuration(yaml: yaml)
        #expect(read.listeners.map(\.name) == ["public", "listener2"])
        #expect(read.listeners[0].apis == [.v2] && !read.listeners[0].anonymousPull && read.listeners[0].allow?.count == 1)
        #expect(read.listeners[1].apis.count == 3 && read.listeners[1].allow == nil)
        let replaced = try configuration(yaml: yaml, flags: ["listen": "127.0.0.1:7000"])
        #expect(replaced.listeners.isEmpty && replaced.effectiveListeners.map(\.port) == [7000])
        let fromEnvironment = try configuration(environment: ["KURA_LISTENERS_0_ADDRESS": "127.0.0.1:0", "KURA_LISTENERS_0_APIS": "v2,admin"])
        #expect(fromEnvironment.listeners.count == 1 && fromEnvironment.listeners[0].apis == [.v2, .admin])
    }

    @Test func storageAndProxiesAreRead() throws {
        let read = try configuration(yaml: """
            storage:
              backend: s3
              s3:
                endpoint: http://127.0.0.1:8333
                bucket: kura
                accessKeyID: id
                secretAccessKey: secret
              cache:
                path: /tmp/cache
                maxBytes: 1000
              redirectPullsSeconds: 60
            proxies:
              - namespace: hub
                upstream: https://registry-1.docker.io
                upstreamPrefix: library
            """)
        guard case .s3(let s3) = read.storage.backend else {
            Issue.record("not s3")
            return
        }
        #expect(s3.bucket == "kura" && read.storage.cache?.maxBytes == 1000 && read.storage.redirectPullsSeconds == 60)
        #expect(read.proxies.map(\.namespace) == ["hub"] && read.proxies[0].fillWindow == 8 << 20)
    }
}
