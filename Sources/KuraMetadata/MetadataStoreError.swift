/// A failure of the catalog itself, as opposed to bad input from a client.
public enum MetadataStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stored value does not parse as what its column holds — the database was changed
    /// outside Kura or is damaged.
    case corruptValue(column: String, value: String)

    public var description: String {
        switch self {
        case .corruptValue(let column, let value):
            "catalog column \(column) holds an invalid value \(value.debugDescription)"
        }
    }
}
