import ArgumentParser
import Foundation

/// Options every HTTP benchmark takes.
struct HTTPBenchOptions: ParsableArguments {
    @Option(help: "Registry base URL, e.g. http://127.0.0.1:5000 (any v2 registry).") var url: String
    @Option(help: "User name (access key id) for Basic auth.") var user: String?
    @Option(help: "Password (secret key) for Basic auth.") var password: String?
    /// https: `--ca-cert`, SSL_CERT_FILE, `--insecure` (HTTP/1.1 over TLS).
    @OptionGroup var tls: ServerTLSOptions
    @Flag(help: "Send `Expect: 100-continue` with every upload body and wait for `100 Continue`, as curl does for bodies over 1 MiB.")
    var expectContinue = false
    @Option(help: "Repository to use (created by the benchmark).") var repository: String = "kura-bench/\(UUID().uuidString.prefix(8).lowercased())"
    @Flag(help: "Print JSON.") var json = false
}

extension HTTPBenchOptions {
    func makeClient() throws -> BenchClient {
        try BenchClient(url: url, user: user, password: password, tls: tls, expectContinue: expectContinue)
    }
}

/// Prints a benchmark result for people or, with --json, for programs.
func reportBenchmark(_ fields: [String: Any], json: Bool, lines: [String]) throws {
    if json {
        let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    } else {
        for line in lines { print(line) }
    }
}

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

/// Shows progress on a terminal (stderr), never in JSON output or pipes.
struct ProgressLine {
    let enabled: Bool
    init(json: Bool) { enabled = !json && ProcessStats.stderrIsTerminal }

    func update(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
