import Foundation
import GRDB
import KuraCore

// Conversions between the catalog's model types and SQLite values. Stored strings are
// parsed again on the way out, so a damaged row surfaces as
// ``MetadataStoreError/corruptValue(column:value:)`` rather than as a bad value downstream.

extension Date {
    /// Milliseconds since 1970: the catalog's date column format.
    var catalogMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(catalogMilliseconds milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

enum CatalogValue {
    static func digest(_ text: String, column: String) throws(MetadataStoreError) -> Digest {
        do { return try Digest(parsing: text) } catch { throw .corruptValue(column: column, value: text) }
    }

    static func repositoryName(_ text: String, column: String) throws(MetadataStoreError) -> RepositoryName {
        do { return try RepositoryName(parsing: text) } catch { throw .corruptValue(column: column, value: text) }
    }

    static func tag(_ text: String, column: String) throws(MetadataStoreError) -> Tag {
        do { return try Tag(parsing: text) } catch { throw .corruptValue(column: column, value: text) }
    }

    static func referenceKind(_ text: String) throws(MetadataStoreError) -> ManifestReference.Kind {
        guard let kind = ManifestReference.Kind(rawValue: text) else {
            throw .corruptValue(column: "manifest_references.kind", value: text)
        }
        return kind
    }

    /// Annotations as a JSON object with sorted keys, so equal maps store equal text.
    static func annotationsJSON(_ annotations: [String: String]) throws -> String {
        if annotations.isEmpty { return "{}" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(annotations), as: UTF8.self)
    }

    static func annotations(_ json: String) throws(MetadataStoreError) -> [String: String] {
        if json == "{}" { return [:] }
        do {
            return try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        } catch {
            throw .corruptValue(column: "manifests.annotations", value: json)
        }
    }

    /// Decodes a row selected with ``SQLiteMetadataStore/manifestColumns``.
    static func manifest(_ row: Row) throws -> ManifestRecord {
        let subject: String? = row["subject"]
        return ManifestRecord(
            digest: try digest(row["digest"], column: "manifests.digest"),
            mediaType: row["media_type"],
            size: row["size"],
            artifactType: row["artifact_type"],
            subject: try subject.map { text throws(MetadataStoreError) in
                try digest(text, column: "manifests.subject")
            },
            annotations: try annotations(row["annotations"]),
            createdAt: Date(catalogMilliseconds: row["created_at"])
        )
    }
}
