import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraServerTestSupport
import KuraTestSupport
import Logging
import Testing

/// The command-line tools that read the catalog directly, on a PostgreSQL catalog:
/// `kura usage --catalog-url` reports from it; `kura backup` refuses, naming what to use.
@Suite("Command-line tools on a PostgreSQL catalog", .serialized)
struct PostgresCatalogToolsTests {
    @Test("kura usage --catalog-url reads a PostgreSQL catalog; --data without a SQLite catalog names --catalog-url")
    func usageReadsAPostgresCatalog() async throws {
        let (url, database) = try await PostgreSQLServer.makeDatabase()
        defer { Task { await PostgreSQLServer.dropDatabase(database) } }
        var logger = Logger(label: "usage-test")
        logger.logLevel = .warning
        let catalog = try await PostgresCatalog.open(url: url, poolSize: 2, startTimeout: .seconds(60), logger: logger)
        let hour = UsageQuery.monthStart(of: Date())
        try await catalog.addUsage([
            UsageBucket(hour: hour, namespace: "team", repository: "team/app", accessKeyID: "K1", kind: .manifestPull):
                UsageCounts(calls: 7, bytesIn: 0, bytesOut: 4_096)
        ])
        catalog.close()
        try await withTemporaryDirectory { scratch in
            let report = try await runKura(["usage", "--catalog-url", url, "--json", "--by", "repository"], scratch: scratch)
            #expect(report.status == 0, "\(report.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
            let rows = try #require(json["usage"] as? [[String: Any]])
            #expect(rows.count == 1)
            #expect(rows.first?["repository"] as? String == "team/app" && rows.first?["calls"] as? Int == 7)

            let missing = try await runKura(["usage", "--data", scratch, "--json"], scratch: scratch)
            #expect(missing.status != 0 && missing.stderr.contains("--catalog-url"), "\(missing.stderr)")
        }
    }

    @Test("kura backup on a PostgreSQL catalog refuses and names pg_dump")
    func backupRefusesAPostgresCatalog() async throws {
        let (url, database) = try await PostgreSQLServer.makeDatabase()
        defer { Task { await PostgreSQLServer.dropDatabase(database) } }
        try await withTemporaryDirectory { scratch in
            var environment = ProcessInfo.processInfo.environment
            environment["KURA_CATALOG_BACKEND"] = "postgres"
            environment["KURA_CATALOG_URL"] = url
            let result: ExternalProcessResult
            do {
                result = try await ExternalProcess.run(
                    ServeProcessTests.executable, ["backup", "--data", "\(scratch)/data", "--to", "\(scratch)/backup"],
                    environment: environment, scratch: scratch)
            } catch let failure as ExternalProcessFailure {
                result = failure.result
            }
            #expect(result.status != 0)
            #expect(result.stderr.contains("this registry's catalog is PostgreSQL") && result.stderr.contains("pg_dump"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "\(scratch)/backup/\(RegistryBackup.catalogFile)"))
        }
    }
}
