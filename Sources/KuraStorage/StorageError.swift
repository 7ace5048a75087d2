/// Faults of the storage layer. Conditions a client caused are ``RegistryError``s instead.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A key that is not a valid ``ObjectKey``.
    case invalidKey(String)
    /// The object does not exist.
    case notFound(ObjectKey)
    /// A byte range outside the object.
    case rangeNotSatisfiable(size: Int64)
    /// An operating-system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// The backend answered, but not as its contract says.
    case backend(String)
    /// The backend could not be reached; retrying later may succeed.
    case unavailable(String)
    /// Stored state (an upload session) is unreadable or inconsistent.
    case corruptState(String)

    /// The disk (or a quota on it) is full: `ENOSPC` or `EDQUOT`.
    public var isOutOfSpace: Bool {
        if case .io(_, _, let code) = self { return code == ENOSPC || code == EDQUOT }
        return false
    }

    public var description: String {
        switch self {
        case .invalidKey(let k): "invalid object key \(k.debugDescription)"
        case .notFound(let k): "object \(k) not found"
        case .rangeNotSatisfiable(let size): "range not satisfiable for an object of \(size) bytes"
        case .io(let op, let path, let errno): "\(op) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
        case .backend(let m): "backend error: \(m)"
        case .unavailable(let m): "backend unavailable: \(m)"
        case .corruptState(let m): "corrupt storage state: \(m)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
