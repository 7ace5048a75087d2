/// Why a layer could not be read. A scan that meets one fails, and records the reason.
public enum LayerReadError: Error, Equatable, CustomStringConvertible {
    case corruptCompression(String)
    case truncatedCompression(String)
    case notATar(String)
    case truncatedTar(String)
    case limitExceeded(String)

    public var description: String {
        switch self {
        case .corruptCompression(let detail): "corrupt compressed data: \(detail)"
        case .truncatedCompression(let detail): "truncated compressed stream: \(detail)"
        case .notATar(let detail): "not a tar archive: \(detail)"
        case .truncatedTar(let detail): "truncated tar archive: \(detail)"
        case .limitExceeded(let detail): "limit exceeded: \(detail)"
        }
    }
}
