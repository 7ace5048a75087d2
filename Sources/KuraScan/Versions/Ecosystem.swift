/// The package ecosystems the scanner knows, named as OSV names them.
public enum Ecosystem: String, Sendable, Hashable, Codable, CaseIterable {
    case debian = "Debian"
    case ubuntu = "Ubuntu"
    case alpine = "Alpine"
    case redHat = "Red Hat"
    case rocky = "Rocky Linux"
    case alma = "AlmaLinux"
    case pypi = "PyPI"
    case npm = "npm"
    case go = "Go"
    case maven = "Maven"
}
