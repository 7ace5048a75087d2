/// PyPI project names as they compare (PEP 503): lower case, runs of `-`, `_` and `.`
/// become one `-`, so "Flask_Login" and "flask-login" are the same project.
public enum PyPIName {
    public static func normalize(_ name: String) -> String {
        var result = ""
        var lastWasSeparator = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !lastWasSeparator { result.append("-") }
                lastWasSeparator = true
            } else {
                result.append(character)
                lastWasSeparator = false
            }
        }
        return result
    }
}
