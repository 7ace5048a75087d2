/// A page's view as nested dictionaries, made once per page. Given a struct, mustache
/// reflects it (every field, through `Mirror`) for each name it looks up, and again for each
/// enclosing view a name is not found in: with 50 table rows that was more than half of the
/// repository page's time. A dictionary answers each lookup at once, and the same way: a
/// `nil` field is absent, so the lookup goes on to the enclosing view as before.
enum MustacheFields {
    static func of(_ value: Any) -> Any {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        // Only this module's views: a Foundation struct (a Date) renders as itself.
        case .struct? where String(reflecting: mirror.subjectType).hasPrefix("KuraDashboard."):
            var fields: [String: Any] = [:]
            for child in mirror.children {
                if let label = child.label, let field = unwrapped(child.value) { fields[label] = of(field) }
            }
            return fields
        case .collection?:
            guard let items = value as? [Any] else { return value }
            return items.map(of)
        default:
            return value
        }
    }

    /// The value an optional holds (`nil` for none); any other value as it is.
    private static func unwrapped(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first.flatMap { unwrapped($0.value) }
    }
}
