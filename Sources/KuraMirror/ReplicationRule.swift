public import Foundation
import KuraCore

/// A standing order to copy between this registry and a remote one.
///
/// - `pull`: repositories under `remoteNamespace/` on the remote come into `namespace/` here,
///   on the rule's schedule.
/// - `push`: repositories under `namespace/` here go to `remoteNamespace/` on the remote, on the
///   schedule and after every push into the namespace.
public struct ReplicationRule: Sendable, Codable, Equatable {
    public enum Direction: String, Sendable, Codable {
        case pull
        case push
    }

    public var name: String
    public var direction: Direction
    /// The local namespace.
    public var namespace: String
    /// The remote registry URL.
    public var remote: String
    /// The remote namespace (the local one's name when absent).
    public var remoteNamespace: String?
    public var remoteCredentials: RegistryCredentials?
    /// Credentials for this registry's own API when it has access control on.
    public var localCredentials: RegistryCredentials?
    /// Only tags matching this regular expression.
    public var tags: String?
    /// Seconds between scheduled runs; nil for none.
    public var intervalSeconds: Int?
    /// The longest schedule: a year.
    public static let maximumIntervalSeconds = 366 * 86_400
    /// Push rules: run after each push into the namespace.
    public var onPush: Bool

    public init(
        name: String, direction: Direction, namespace: String, remote: String, remoteNamespace: String? = nil,
        remoteCredentials: RegistryCredentials? = nil, localCredentials: RegistryCredentials? = nil, tags: String? = nil,
        intervalSeconds: Int? = nil, onPush: Bool = false
    ) {
        self.name = name
        self.direction = direction
        self.namespace = namespace
        self.remote = remote
        self.remoteNamespace = remoteNamespace
        self.remoteCredentials = remoteCredentials
        self.localCredentials = localCredentials
        self.tags = tags
        self.intervalSeconds = intervalSeconds
        self.onPush = onPush
    }

    /// Checks every field; throws a message that names the bad one.
    public func validate() throws(MirrorError) {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw .invalidArgument("rule name must be 1-64 letters, digits, - or _")
        }
        for (field, value) in [("namespace", namespace), ("remoteNamespace", remoteNamespace ?? namespace)] {
            guard (try? RepositoryName(parsing: value))?.components.count == 1 else { throw .invalidArgument("\(field) \(value.debugDescription) is not a namespace") }
        }
        _ = try RegistryEndpoint(parsing: remote)
        _ = try TagFilter(regex: tags)
        // Bounded above too: the schedule turns it into instants and lease expiries in
        // milliseconds, where a value near Int.max would overflow.
        if let intervalSeconds, !(1...Self.maximumIntervalSeconds).contains(intervalSeconds) {
            throw .invalidArgument("intervalSeconds must be 1 to \(Self.maximumIntervalSeconds) (a year)")
        }
        if direction == .pull && onPush { throw .invalidArgument("onPush applies to push rules only") }
    }

    var remoteNamespaceName: String { remoteNamespace ?? namespace }

    /// `from/rest` → `to/rest`.
    static func renamed(_ repository: String, from: String, to: String) -> String {
        guard repository.hasPrefix(from + "/") else { return repository }
        return to + repository.dropFirst(from.count)
    }
}

/// One run of a rule, as the admin API shows it.
public struct ReplicationRun: Sendable, Codable {
    public var rule: String
    /// `schedule`, `push`, `manual` or `retry`.
    public var trigger: String
    public var started: Date
    public var seconds: Double
    public var counts: MirrorCounts
    public var failures: [MirrorFailure]
    /// Why the run could not start (the remote or this registry did not answer).
    public var error: String?

    public var succeeded: Bool { failures.isEmpty && error == nil }
}
