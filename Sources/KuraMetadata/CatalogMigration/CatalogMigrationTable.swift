/// One table `kura catalog migrate` copies from SQLite into PostgreSQL: its columns (the
/// same names and meaning in both schemas, see ``PostgresSchema``), the key it is read in
/// order of (so an interrupted copy resumes after the last row it committed), and what an
/// existing row with the same key means.
struct CatalogMigrationTable: Sendable {
    enum Kind: Sendable {
        case text, integer, blob, boolean

        /// The PostgreSQL type a bound value is cast to.
        var postgresType: String {
            switch self {
            case .text: "text"
            case .integer: "bigint"
            case .blob: "bytea"
            case .boolean: "boolean"
            }
        }
    }

    struct Column: Sendable {
        let name: String
        let kind: Kind
        /// The SQLite expression read for it (`rowid` for `manifests.row_id`).
        let source: String
    }

    let name: String
    let columns: [Column]
    /// Columns (a prefix-free subset of `columns`, unique in the source) the rows are read in
    /// order of.
    let key: [String]
    /// A row already there (from an interrupted run) is replaced rather than kept: for
    /// `gc_blobs`, which the target's triggers fill while links and manifests are copied.
    let replacesExisting: Bool
    /// A `BIGSERIAL` column: its sequence is moved past the copied ids.
    let serial: String?
    /// At most this many rows per batch, whatever the batch size asked: rows that can be
    /// megabytes each (scan reports) must not make a batch of gigabytes.
    let maximumBatch: Int

    init(_ name: String, _ columns: [(String, Kind)], key: [String], replacesExisting: Bool = false, serial: String? = nil,
         sources: [String: String] = [:], maximumBatch: Int = .max) {
        self.name = name
        self.columns = columns.map { Column(name: $0.0, kind: $0.1, source: sources[$0.0] ?? "\"\($0.0)\"") }
        self.key = key
        self.replacesExisting = replacesExisting
        self.serial = serial
        self.maximumBatch = maximumBatch
    }

    var keyColumns: [Column] { key.compactMap { name in columns.first { $0.name == name } } }
}

extension CatalogMigrationTable {
    /// Every table copied, parents before children (the target checks foreign keys).
    ///
    /// `gc_blobs` comes last: the target's triggers insert a row for every link and manifest
    /// copied before it (a manifest's with the time of the copy), and its own rows then
    /// replace those with the source's, so the copy's grace periods are the source's.
    /// `gc_deleted_manifests` comes after `manifests`, whose insert trigger clears it.
    static let all: [CatalogMigrationTable] = [
        .init("repositories", [("id", .integer), ("name", .text), ("created_at", .integer)], key: ["id"], serial: "id"),
        .init(
            "manifests",
            [("row_id", .integer), ("repository_id", .integer), ("digest", .text), ("media_type", .text), ("size", .integer),
             ("artifact_type", .text), ("subject", .text), ("annotations", .text), ("created_at", .integer)],
            key: ["row_id"], serial: "row_id", sources: ["row_id": "rowid"]),
        .init(
            "manifest_references",
            [("repository_id", .integer), ("manifest_digest", .text), ("child_digest", .text), ("kind", .text)],
            key: ["repository_id", "manifest_digest", "child_digest", "kind"]),
        .init(
            "tags", [("repository_id", .integer), ("name", .text), ("manifest_digest", .text), ("updated_at", .integer)],
            key: ["repository_id", "name"]),
        .init("tag_pulls", [("repository_id", .integer), ("tag", .text), ("pulled_at", .integer)], key: ["repository_id", "tag"]),
        .init(
            "blob_links", [("repository_id", .integer), ("digest", .text), ("size", .integer), ("linked_at", .integer)],
            key: ["repository_id", "digest"]),
        .init("uploads", [("id", .text), ("repository", .text), ("created_at", .integer)], key: ["id"]),
        .init(
            "gc_deleted_manifests", [("repository_id", .integer), ("digest", .text), ("deleted_at", .integer)],
            key: ["repository_id", "digest"]),
        .init(
            "gc_job_runs",
            [("id", .integer), ("kind", .text), ("owner", .text), ("started_at", .integer), ("finished_at", .integer),
             ("dry_run", .boolean), ("summary", .text), ("error", .text)],
            key: ["id"], serial: "id"),
        .init(
            "accounts", [("name", .text), ("is_root", .boolean), ("is_admin", .boolean), ("disabled", .boolean), ("created_at", .integer)],
            key: ["name"]),
        .init(
            "access_keys",
            [("id", .text), ("account", .text), ("secret_hash", .blob), ("status", .text), ("created_at", .integer),
             ("last_used_at", .integer)],
            key: ["id"]),
        .init("namespaces", [("name", .text), ("is_public", .boolean), ("created_at", .integer)], key: ["name"]),
        .init("grants", [("account", .text), ("namespace", .text), ("role", .text)], key: ["account", "namespace"]),
        .init(
            "repository_descriptions", [("repository", .text), ("short", .text), ("full", .text), ("updated_at", .integer)],
            key: ["repository"]),
        .init(
            "audit_events",
            [("id", .integer), ("time", .integer), ("account", .text), ("access_key_id", .text), ("source_address", .text),
             ("action", .text), ("namespace", .text), ("repository", .text), ("detail", .text)],
            key: ["id"], serial: "id"),
        .init("retention_policies", [("scope", .text), ("policy", .text)], key: ["scope"]),
        .init(
            "usage_hourly",
            [("hour", .integer), ("namespace", .text), ("repository", .text), ("access_key_id", .text), ("kind", .text),
             ("calls", .integer), ("bytes_in", .integer), ("bytes_out", .integer)],
            key: ["hour", "namespace", "repository", "access_key_id", "kind"]),
        .init("namespace_quotas", [("namespace", .text), ("max_bytes", .integer)], key: ["namespace"]),
        .init(
            "storage_daily", [("day", .integer), ("namespace", .text), ("physical_bytes", .integer), ("logical_bytes", .integer)],
            key: ["namespace", "day"]),
        .init(
            "webhooks",
            [("id", .text), ("namespace", .text), ("url", .text), ("sealed_secret", .blob), ("events", .text), ("created_at", .integer)],
            key: ["id"]),
        .init("replication_rules", [("name", .text), ("document", .blob), ("updated_at", .integer)], key: ["name"]),
        .init(
            "scan_results",
            [("manifest", .text), ("repository", .text), ("status", .text), ("reason", .text), ("scanned_at", .integer),
             ("database_import", .integer), ("report", .blob)],
            key: ["manifest"], maximumBatch: 20),
        .init("scan_policies", [("namespace", .text), ("minimum_severity", .text), ("allow_list", .text)], key: ["namespace"]),
        .init(
            "console_sessions",
            [("id_hash", .text), ("key_id", .text), ("csrf_token", .text), ("created_at", .integer), ("last_seen_at", .integer)],
            key: ["id_hash"]),
        .init(
            "gc_blobs",
            [("digest", .text), ("size", .integer), ("last_linked_at", .integer), ("state", .integer), ("collected_at", .integer)],
            key: ["digest"], replacesExisting: true),
    ]

    /// SQLite tables deliberately left behind, and why.
    static let notCopied: [String: String] = [
        "gc_job_locks": "job leases belong to the process that took them; the PostgreSQL nodes take their own"
    ]
}
