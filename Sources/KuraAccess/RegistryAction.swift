/// What a request does to a repository, as the Docker token scopes name it.
public enum RegistryAction: String, Sendable, Hashable, Codable, CaseIterable {
    case pull
    case push
    case delete
}

/// A scope of the Docker token flow: `repository:<name>:<actions>` or `registry:catalog:*`.
public struct AccessScope: Sendable, Hashable, Codable, CustomStringConvertible {
    public var type: String
    public var name: String
    public var actions: [String]

    public init(type: String, name: String, actions: [String]) {
        self.type = type
        self.name = name
        self.actions = actions
    }

    public static func repository(_ name: String, _ actions: [RegistryAction]) -> AccessScope {
        AccessScope(type: "repository", name: name, actions: actions.map(\.rawValue))
    }

    /// Parses `type:name:action,action`, splitting at the first and last `:`.
    public init?(parsing text: String) {
        guard let first = text.firstIndex(of: ":"), let last = text.lastIndex(of: ":"), first != last else { return nil }
        type = String(text[..<first])
        name = String(text[text.index(after: first)..<last])
        actions = text[text.index(after: last)...].split(separator: ",").map(String.init)
        guard !type.isEmpty, !name.isEmpty else { return nil }
    }

    public var description: String { "\(type):\(name):\(actions.joined(separator: ","))" }
}
