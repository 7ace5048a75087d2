import Testing
@testable import KuraServe

/// `catalog:` — SQLite by default, PostgreSQL with a URL, from the file or `KURA_CATALOG_*`.
@Suite struct CatalogSettingsTests {
    @Test func sqliteIsTheDefault() throws {
        #expect(try configuration().catalog.backend == .sqlite)
    }

    @Test func postgresFromTheFileAndTheURLFromTheEnvironment() throws {
        let url = "postgres://kura:secret@db.internal:5432/kura"
        let read = try configuration(
            yaml: "catalog:\n  backend: postgres\n  poolSize: 4\n", environment: ["KURA_CATALOG_URL": url])
        #expect(read.catalog.backend == .postgres(url: url, poolSize: 4))
        let fromEnvironment = try configuration(environment: ["KURA_CATALOG_BACKEND": "postgres", "KURA_CATALOG_URL": url])
        #expect(fromEnvironment.catalog.backend == .postgres(url: url, poolSize: ServerConfiguration.CatalogSettings.defaultPoolSize))
    }

    @Test func theLookupCacheLastsASecondUnlessConfigured() throws {
        #expect(try configuration().catalog.lookupCacheMilliseconds == 1000)
        #expect(try configuration(yaml: "catalog:\n  lookupCacheMilliseconds: 0\n").catalog.lookupCacheMilliseconds == 0)
        #expect(try configuration(environment: ["KURA_CATALOG_LOOKUP_CACHE_MILLISECONDS": "250"]).catalog.lookupCacheMilliseconds == 250)
    }

    @Test(arguments: [
        ("catalog:\n  backend: postgres\n", "catalog.url is required with catalog.backend postgres"),
        ("catalog:\n  backend: postgres\n  url: mysql://db/kura\n", "catalog.url must be postgres://"),
        ("catalog:\n  backend: oracle\n", "catalog.backend must be sqlite or postgres, not oracle"),
        ("catalog:\n  poolSize: 0\n", "catalog.poolSize must be between 1 and 1000"),
        ("catalog:\n  lookupCacheMilliseconds: 1001\n", "catalog.lookupCacheMilliseconds must be between 0 and 1000"),
    ])
    func badValuesAreRefusedNamingTheirKey(_ yaml: String, _ message: String) {
        let refused = refusal(yaml: yaml)
        #expect(refused?.contains(message) == true, "\(refused ?? "accepted")")
    }
}
