import Foundation
import KuraCore
import KuraMetadata
import Testing

/// Each namespace's stored bytes per day, on every catalog in ``CatalogFixture/all``.
@Suite struct StorageHistoryConformanceTests {
    @Test(arguments: CatalogFixture.all)
    func aDaysLastSampleIsKeptPerNamespace(_ fixture: CatalogFixture) async throws {
        try await fixture.withCatalog { catalog in
            let day = date(milliseconds: 1_764_374_400_000)  // 2025-11-29 00:00 UTC
            func at(_ days: Double, hours: Double = 0) -> Date { day.addingTimeInterval(days * 86_400 + hours * 3_600) }
            try await catalog.usage.recordStorageSamples([
                StorageSample(day: at(0, hours: 3), namespace: "team", physicalBytes: 100, logicalBytes: 150),
                StorageSample(day: at(1, hours: 1), namespace: "team", physicalBytes: 200, logicalBytes: 300),
                StorageSample(day: at(1, hours: 1), namespace: "other", physicalBytes: 7, logicalBytes: 7),
            ])
            // Later the same day: the day's figure is replaced, not added to.
            try await catalog.usage.recordStorageSamples([StorageSample(day: at(1, hours: 20), namespace: "team", physicalBytes: 250, logicalBytes: 320)])
            let samples = try await catalog.usage.storageSamples(namespace: "team", from: at(0), to: at(2))
            #expect(
                samples == [
                    StorageSample(day: at(0), namespace: "team", physicalBytes: 100, logicalBytes: 150),
                    StorageSample(day: at(1), namespace: "team", physicalBytes: 250, logicalBytes: 320),
                ])
            #expect(try await catalog.usage.storageSamples(namespace: "team", from: at(1), to: at(2)).map(\.physicalBytes) == [250])
            #expect(try await catalog.usage.storageSamples(namespace: "team", from: at(2), to: at(9)).isEmpty)
            #expect(try await catalog.usage.storageSamples(namespace: "nobody", from: at(0), to: at(9)).isEmpty)
            try await catalog.usage.recordStorageSamples([])
        }
    }
}
