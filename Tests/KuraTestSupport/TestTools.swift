import Foundation

/// Where the tests find the tools `scripts/install-deps` installs: PyPI tools (weed, trivy,
/// the Python that has oras) in the virtual environment the scripts own, Debian's under
/// /usr/bin. A missing tool is a failure that says how to install it, never a skip.
public enum TestTools {
    /// The virtual environment: `KURA_TEST_VENV` (scripts/test exports it), else the
    /// default of scripts/install-deps.
    public static var virtualEnvironment: String {
        let environment = ProcessInfo.processInfo.environment
        if let folder = environment["KURA_TEST_VENV"], !folder.isEmpty { return folder }
        let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        return cache + "/kura-test-venv"
    }

    public struct Missing: Error, CustomStringConvertible {
        public var tool: String
        public init(tool: String) { self.tool = tool }
        public var description: String {
            "\(tool) is not installed (looked in \(TestTools.virtualEnvironment)/bin and PATH): run scripts/install-deps, or scripts/test, which runs it"
        }
    }

    /// The tool's path: the virtual environment's bin/ first, then PATH.
    public static func path(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in ["\(virtualEnvironment)/bin"] + path.split(separator: ":").map(String.init) {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The tool's path, or ``Missing``.
    public static func require(_ name: String) throws -> String {
        guard let found = path(name) else { throw Missing(tool: name) }
        return found
    }

    /// The virtual environment's Python (which has oras-py), or ``Missing``.
    public static func python() throws -> String {
        let python = "\(virtualEnvironment)/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else { throw Missing(tool: "the test Python (\(python))") }
        return python
    }
}
