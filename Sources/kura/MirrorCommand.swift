import ArgumentParser
import AsyncHTTPClient
import Foundation
import KuraMirror

/// `kura mirror`: copies repositories from one registry to another.
struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirror",
        abstract: "Copy repositories from a source registry to a target registry.",
        discussion: """
            Either side may be Kura or any other OCI registry. Manifests are copied byte for byte with \
            every blob they need, index children and referrers (signatures, SBOMs). What the target \
            already has is skipped, so a second run copies nothing. Progress goes to stderr, the \
            summary to stdout. Credentials: --from-user/--from-password-file (or KURA_MIRROR_FROM_USER, \
            KURA_MIRROR_FROM_PASSWORD), likewise --to-…; secrets are never printed. Exit status 1 when \
            anything failed.
            """
    )

    @Option(help: "Source registry URL, e.g. https://registry.example.com.") var from: String
    @Option(help: "Target registry URL.") var to: String
    @Option(name: .customLong("repository"), help: "A repository to copy (repeatable).") var repositories: [String] = []
    @Option(help: "Copy every repository of the source's catalog whose name starts with this, e.g. team/.") var prefix: String?
    @Option(help: "Copy only tags that match this regular expression (whole tag).") var tags: String?
    @Option(help: "Copy only tags that are versions in this range, e.g. '>=1.2.0 <2.0.0', '^1.2', '~1.2.3'.") var semver: String?
    @Option(name: .customLong("platform"), help: "Keep only this platform of multi-platform images, os/arch[/variant] (repeatable).")
    var platforms: [String] = []
    @Flag(help: "Do not copy referrers (signatures, SBOMs).") var noReferrers = false
    @Option(help: "Transfers in flight at once.") var parallel = 4
    @Option(help: "Byte-rate limit over all transfers, e.g. 50MB/s.") var rate: String?
    @Option(help: "Upload blobs in chunks of this size (for targets that need chunked uploads), e.g. 16MiB.") var chunkSize: ByteSize?
    @Option(help: "Attempts per request or transfer before it counts as failed.") var attempts = 4
    @Option(help: "User name (access key id) on the source.") var fromUser: String?
    @Option(help: "File holding the password (secret key) for the source.") var fromPasswordFile: String?
    @Option(help: "User name (access key id) on the target.") var toUser: String?
    @Option(help: "File holding the password (secret key) for the target.") var toPasswordFile: String?
    @Flag(help: "Report what would be copied; copy nothing.") var dryRun = false
    @Flag(help: "Print the summary as JSON.") var json = false
    @Flag(help: "No progress on stderr.") var quiet = false
    @OptionGroup var tls: ServerTLSOptions

    func validate() throws {
        guard !repositories.isEmpty || prefix != nil else { throw ValidationError("name repositories with --repository or --prefix") }
        guard parallel >= 1 else { throw ValidationError("--parallel must be at least 1") }
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
        if let rate, Self.bytesPerSecond(rate) == nil { throw ValidationError("--rate must be a size per second, e.g. 50MB/s, not \(rate)") }
        if let chunkSize, chunkSize.bytes < 1 { throw ValidationError("--chunk-size must be positive") }
    }

    /// `50MB/s`, `50MB`, `1GiB/s` → bytes per second.
    static func bytesPerSecond(_ text: String) -> Int? {
        let trimmed = text.hasSuffix("/s") ? String(text.dropLast(2)) : text
        guard let size = ByteSize(argument: trimmed), size.bytes > 0 else { return nil }
        return Int(size.bytes)
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let options: MirrorOptions
        let source: RegistryEndpoint
        let target: RegistryEndpoint
        do {
            source = try RegistryEndpoint(
                parsing: from,
                credentials: try Self.credentials(user: fromUser, passwordFile: fromPasswordFile, environment: environment, side: "FROM"))
            target = try RegistryEndpoint(
                parsing: to, credentials: try Self.credentials(user: toUser, passwordFile: toPasswordFile, environment: environment, side: "TO"))
            options = MirrorOptions(
                repositories: repositories, prefix: prefix, tags: try TagFilter(regex: tags, semver: semver),
                platforms: try platforms.map { (text: String) throws(MirrorError) in try PlatformSpecifier(parsing: text) },
                copyReferrers: !noReferrers, parallelism: parallel, bytesPerSecond: rate.flatMap(Self.bytesPerSecond), dryRun: dryRun)
        } catch let error as MirrorError {
            throw ValidationError(error.description)
        }

        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        configuration.decompression = .disabled
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: Swift.max(8, parallel * 2))
        let tlsConfiguration = try tls.tlsConfiguration()
        configuration.tlsConfiguration = tlsConfiguration
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let retry = RetryPolicy(attempts: attempts)
        let mirror = Mirror(
            source: RegistryClient(endpoint: source, httpClient: http, retry: retry, tls: tlsConfiguration),
            target: RegistryClient(
                endpoint: target, httpClient: http, retry: retry, uploadChunkSize: chunkSize.map { Int($0.bytes) }, tls: tlsConfiguration),
            options: options)
        let summary: MirrorSummary
        do {
            let quiet = quiet
            summary = try await mirror.run { event in
                if !quiet { MirrorProgressPrinter.print(event) }
            }
        } catch {
            try? await http.shutdown()
            throw MirrorFailed(message: "\(error)")
        }
        try await http.shutdown()
        if json {
            try printJSON(summary)
        } else {
            print(MirrorProgressPrinter.summary(summary))
        }
        if !summary.succeeded { throw ExitCode(1) }
    }

    /// Credentials from options, else the environment (`KURA_MIRROR_<SIDE>_USER`/`_PASSWORD`).
    static func credentials(user: String?, passwordFile: String?, environment: [String: String], side: String) throws -> RegistryCredentials? {
        let name = user ?? environment["KURA_MIRROR_\(side)_USER"]
        var password = environment["KURA_MIRROR_\(side)_PASSWORD"]
        if let passwordFile {
            do {
                password = try String(contentsOfFile: passwordFile, encoding: .utf8).trimmingCharacters(in: .newlines)
            } catch {
                throw ValidationError("cannot read the password file \(passwordFile)")
            }
        }
        switch (name, password) {
        case (let name?, let password?): return RegistryCredentials(username: name, password: password)
        case (nil, nil): return nil
        case (nil, _): throw ValidationError("a password for the \(side.lowercased()) registry needs a user name too")
        case (_, nil): throw ValidationError("a user name for the \(side.lowercased()) registry needs a password too (--\(side.lowercased())-password-file)")
        }
    }
}

/// A mirror run that could not start (the source or target did not answer, or refused).
struct MirrorFailed: Error, CustomStringConvertible {
    var message: String
    var description: String { "mirror failed: \(message)" }
}

/// Human-readable progress (stderr) and summary (stdout) of `kura mirror`.
enum MirrorProgressPrinter {
    static func print(_ event: MirrorEvent) {
        let line: String? =
            switch event {
            case .repositoryStarted(let repository, let tags): "\(repository): \(tags.count) tag(s)"
            case .manifestCopied(let repository, let reference, _, _): "\(repository): copied manifest \(reference)"
            case .manifestSkipped(let repository, let reference, _): "\(repository): \(reference) already there"
            case .blobCopied(let repository, let digest, let bytes): "\(repository): copied blob \(digest.prefix(19)) (\(formatBytes(bytes)))"
            case .blobMounted(let repository, let digest, let from): "\(repository): mounted blob \(digest.prefix(19)) from \(from)"
            case .blobSkipped: nil
            case .failed(let failure): "\(failure.repository)\(failure.reference.map { ":\($0)" } ?? ""): FAILED: \(failure.message)"
            case .repositoryFinished(let repository, let counts): "\(repository): done, \(describe(counts))"
            }
        if let line { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    static func describe(_ counts: MirrorCounts) -> String {
        "\(counts.manifestsCopied) manifest(s) copied, \(counts.manifestsSkipped) skipped; "
            + "\(counts.blobsCopied) blob(s) copied, \(counts.blobsMounted) mounted, \(counts.blobsSkipped) skipped; "
            + "\(formatBytes(counts.bytesCopied)) copied, \(formatBytes(counts.bytesSkipped)) skipped"
    }

    static func summary(_ summary: MirrorSummary) -> String {
        var lines = [
            "\(summary.dryRun ? "dry run, would copy" : "mirrored") \(summary.source) → \(summary.target): \(summary.repositories.count) repository(ies)",
            describe(summary.total),
            String(format: "%.1f s, %.1f MB/s", summary.seconds, summary.seconds > 0 ? Double(summary.total.bytesCopied) / summary.seconds / 1e6 : 0),
        ]
        if !summary.failures.isEmpty {
            lines.append("\(summary.failures.count) failure(s):")
            lines += summary.failures.map { "  \($0.repository)\($0.reference.map { ":\($0)" } ?? ""): \($0.message)" }
        }
        return lines.joined(separator: "\n")
    }
}
