import Foundation

/// How a ``ScanReport`` is kept in the catalog (`ScanRecord.report`): JSON with ISO 8601
/// dates, so the stored report is the same document `kura scan --json` prints.
enum ScanReportCoding {
    static func encode(_ report: ScanReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(report)
    }

    static func decode(_ data: Data) throws -> ScanReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ScanReport.self, from: data)
    }
}
