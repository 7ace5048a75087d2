/// Why `kura backup` cannot back up this registry, and what to use instead.
public enum BackupUnsupported: Error, CustomStringConvertible {
    /// The catalog is PostgreSQL: kura backup copies a SQLite file.
    case postgresCatalog

    public var description: String {
        switch self {
        case .postgresCatalog:
            "kura backup copies a SQLite catalog, and this registry's catalog is PostgreSQL: back the database up with "
                + "PostgreSQL's tools (pg_dump -Fc, or continuous archiving), and the blobs with your storage's tools (see docs/backup.md)"
        }
    }
}
