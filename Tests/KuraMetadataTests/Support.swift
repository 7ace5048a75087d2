import Foundation
import KuraCore
import KuraMetadata

/// A sha256 digest whose hex text orders like `n`: `n` big-endian in the first 8 bytes.
func digest(_ n: Int) -> Digest {
    let prefix = withUnsafeBytes(of: UInt64(n).bigEndian, Array.init)
    return Digest(algorithm: .sha256, rawBytes: prefix + [UInt8](repeating: 0xab, count: 24))
}

func repo(_ name: String) throws -> RepositoryName { try RepositoryName(parsing: name) }

func tag(_ name: String) throws -> Tag { try Tag(parsing: name) }

func tags(_ names: String...) throws -> [Tag] { try names.map(tag) }

func repos(_ names: String...) throws -> [RepositoryName] { try names.map(repo) }

/// A date on a whole millisecond, which every implementation stores exactly.
func date(milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

let imageManifestType = "application/vnd.oci.image.manifest.v1+json"

func manifestRecord(
    _ n: Int, mediaType: String = imageManifestType, size: Int64 = 1_234, artifactType: String? = nil,
    subject: Digest? = nil, annotations: [String: String] = [:], createdAt: Date = date(milliseconds: 1_700_000_000_123)
) -> ManifestRecord {
    ManifestRecord(
        digest: digest(n), mediaType: mediaType, size: size, artifactType: artifactType, subject: subject,
        annotations: annotations, createdAt: createdAt)
}

extension Date {
    /// Whether `self` lies between `start` and `end`, widened by 1 ms each way for stores that round
    /// to milliseconds.
    func isWithin(_ start: Date, _ end: Date) -> Bool {
        self >= start.addingTimeInterval(-0.001) && self <= end.addingTimeInterval(0.001)
    }
}
