import Foundation
import ZIPFoundation

/// Package records of each kind, written as their tools write them.
enum PackageSamples {
    static let debianOSRelease = """
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
        VERSION="12 (bookworm)"
        VERSION_CODENAME=bookworm
        ID=debian
        """

    static let alpineOSRelease = """
        NAME="Alpine Linux"
        ID=alpine
        VERSION_ID=3.18.4
        PRETTY_NAME="Alpine Linux v3.18"
        """

    /// A dpkg status stanza, as dpkg writes it.
    static func dpkgStanza(_ name: String, _ version: String, source: String? = nil, status: String = "install ok installed") -> String {
        var lines = ["Package: \(name)", "Status: \(status)", "Priority: optional", "Architecture: amd64"]
        if let source { lines.append("Source: \(source)") }
        lines += ["Version: \(version)", "Description: \(name)", " A longer description line.", ""]
        return lines.joined(separator: "\n") + "\n"
    }

    /// An apk installed-database stanza.
    static func apkStanza(_ name: String, _ version: String, origin: String) -> String {
        "C:Q1abc=\nP:\(name)\nV:\(version)\nA:x86_64\nS:1000\nI:2000\nT:\(name)\nU:https://www.openssl.org/\nL:Apache-2.0\no:\(origin)\nm:Someone <a@b.c>\nt:1690000000\n\n"
    }

    static func pythonMetadata(_ name: String, _ version: String) -> String {
        "Metadata-Version: 2.1\nName: \(name)\nVersion: \(version)\nSummary: A package\n\nName: not-this-one\nVersion: 0.0.0\n"
    }

    static func packageJSON(_ name: String, _ version: String) -> String {
        "{\n  \"name\": \"\(name)\",\n  \"version\": \"\(version)\",\n  \"main\": \"index.js\"\n}\n"
    }

    /// A jar as Maven packages one: the classes, the manifest, and pom.properties.
    static func jar(group: String, artifact: String, version: String, nested: [String: Data] = [:], withPom: Bool = true) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create, pathEncoding: nil)
        func add(_ path: String, _ data: Data) throws {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        try add("META-INF/MANIFEST.MF", Data("Manifest-Version: 1.0\r\nImplementation-Title: \(artifact)\r\nImplementation-Version: \(version)\r\nImplementation-Vendor-Id: \(group)\r\n\r\n".utf8))
        if withPom {
            try add("META-INF/maven/\(group)/\(artifact)/pom.properties", Data("#Created by Apache Maven\ngroupId=\(group)\nartifactId=\(artifact)\nversion=\(version)\n".utf8))
        }
        try add("com/example/Main.class", Data([0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 61]))
        for (path, data) in nested.sorted(by: { $0.key < $1.key }) { try add(path, data) }
        guard let data = archive.data else { throw CommandFailed(command: "zip", status: 1, output: "no in-memory archive") }
        return data
    }

    /// A Go program built here, depending on golang.org/x/text at `textVersion` (vendored,
    /// so no network is needed): the build info records that module and version.
    static func goBinary(textVersion: String, in folder: URL) async throws -> URL {
        let source = folder.appendingPathComponent("goapp-\(UUID().uuidString)")
        let package = source.appendingPathComponent("vendor/golang.org/x/text/language")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        try "module example.com/app\n\ngo 1.19\n\nrequire golang.org/x/text \(textVersion)\n".write(to: source.appendingPathComponent("go.mod"), atomically: true, encoding: .utf8)
        try "# golang.org/x/text \(textVersion)\n## explicit\ngolang.org/x/text/language\n".write(to: source.appendingPathComponent("vendor/modules.txt"), atomically: true, encoding: .utf8)
        try "package language\n\nfunc Parse(s string) string { return s }\n".write(to: package.appendingPathComponent("language.go"), atomically: true, encoding: .utf8)
        try "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\t\"golang.org/x/text/language\"\n)\n\nfunc main() { fmt.Println(language.Parse(os.Args[0])) }\n"
            .write(to: source.appendingPathComponent("main.go"), atomically: true, encoding: .utf8)
        let binary = source.appendingPathComponent("app")
        try await run(goExecutable, ["build", "-o", binary.path, "."], in: source, environment: [
            "GOFLAGS": "-mod=vendor", "GOPROXY": "off", "GOCACHE": FileManager.default.temporaryDirectory.appendingPathComponent("kura-scan-gocache").path,
        ])
        return binary
    }

    static var goExecutable: String {
        ["/usr/bin/go", "/usr/lib/go/bin/go", "/usr/local/go/bin/go"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/go"
    }

    /// The Go version `go` reports ("go1.19.8").
    static func goVersion() async throws -> String {
        try await run(goExecutable, ["env", "GOVERSION"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
