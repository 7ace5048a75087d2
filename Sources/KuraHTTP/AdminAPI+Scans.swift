import Foundation
import Hummingbird
import KuraAccess
import KuraCore
import KuraMetadata
import KuraScan

extension AdminAPI {
    /// `POST repositories/NAME/manifests/DIGEST/scan` (scan now), `GET|PUT|DELETE
    /// namespaces/NAME/scan-policy`, `POST scan/rematch`. The GET of a result shares the
    /// `repositories/**` route of descriptions (see ``scanResult(_:_:path:)``).
    func registerScans(on api: RouterGroup<KuraRequestContext>) {
        guard let scanning else { return }
        api.post("repositories/**") { r, c in
            await handle(r, c) { caller, body in
                _ = try body.object(allowed: [], optional: true)
                let (repository, digest) = try Self.scanPath(r.uri.path.dropFirst("/api/v1/repositories/".count))
                try await admin.authorizeScan(caller, repository: repository)
                let records = try await scanning.scan(.digest(digest), in: repository)
                let views = try records.map { try ScanResultView($0.manifest, try StoredScan($0), packages: false) }
                if views.count == 1, views[0].manifest == digest.description { return try encode(views[0]) }
                return try encode(IndexScanView(manifest: digest.description, images: views))
            }
        }
        api.get("namespaces/:name/scan-policy") { r, c in
            await handle(r, c) { caller, _ in
                let namespace = try c.parameters.require("name")
                try await admin.authorizeScanPolicy(caller, namespace: namespace, change: nil)
                guard let policy = try await scanning.store.scanPolicy(namespace: namespace) else {
                    throw AdminError.notFound("namespace \(namespace) has no scan policy (pulls are not checked)")
                }
                return try encode(policy)
            }
        }
        api.put("namespaces/:name/scan-policy") { r, c in
            await handle(r, c) { caller, body in
                let namespace = try c.parameters.require("name")
                let json = try body.object(allowed: ["minimumSeverity", "allowList"])
                let severityName = try json.string("minimumSeverity").uppercased()
                guard let severity = Severity(rawValue: severityName), severity >= .low else {
                    throw AdminError.invalid("minimumSeverity must be LOW, MEDIUM, HIGH or CRITICAL")
                }
                let allowList = try json.strings("allowList") ?? []
                guard allowList.count <= 10_000, allowList.allSatisfy({ !$0.isEmpty && $0.count <= 200 && !$0.contains("\n") }) else {
                    throw AdminError.invalid("allowList holds advisory ids (at most 10000, each one line of at most 200 characters)")
                }
                try await admin.authorizeScanPolicy(caller, namespace: namespace, change: "set")
                let policy = ScanPolicy(namespace: namespace, minimumSeverity: severity.rawValue, allowList: Array(Set(allowList)).sorted())
                try await scanning.store.setScanPolicy(policy)
                scanPolicy?.invalidate()
                return try encode(policy)
            }
        }
        api.delete("namespaces/:name/scan-policy") { r, c in
            await handle(r, c) { caller, _ in
                let namespace = try c.parameters.require("name")
                try await admin.authorizeScanPolicy(caller, namespace: namespace, change: "delete")
                guard try await scanning.store.deleteScanPolicy(namespace: namespace) else {
                    throw AdminError.notFound("namespace \(namespace) has no scan policy")
                }
                scanPolicy?.invalidate()
                return try noContent()
            }
        }
        api.post("scan/rematch") { r, c in
            await handle(r, c) { caller, body in
                _ = try body.object(allowed: [], optional: true)
                try await admin.authorizeRematch(caller)
                return try encode(try await scanning.rematchStored())
            }
        }
    }

    /// `GET repositories/NAME/manifests/DIGEST/scan`: the stored result (`?packages=true`
    /// adds the package list); an index answers with one result per platform image.
    func scanResult(_ caller: AccessAdmin.Caller, _ request: Request, path: Substring) async throws -> Result {
        guard let scanning else { throw AdminError.notFound("image scanning is not enabled on this server") }
        let (repository, digest) = try Self.scanPath(path)
        try await admin.authorizeScanRead(caller, repository: repository)
        let withPackages = request.uri.queryParameters["packages"] == "true"
        let (isIndex, results) = try await scanning.results(for: digest, in: repository)
        let views = try results.map { try ScanResultView($0.0, $0.1, packages: withPackages) }
        if isIndex { return try encode(IndexScanView(manifest: digest.description, images: views)) }
        guard results.first?.1 != nil else {
            throw AdminError(code: "SCAN_UNKNOWN", status: 404, "\(repository)@\(digest) has no scan result yet (POST to this URL scans it now)")
        }
        return try encode(views[0])
    }

    /// `NAME/manifests/DIGEST/scan` → the repository and the manifest digest.
    static func scanPath(_ path: Substring) throws -> (RepositoryName, Digest) {
        guard path.hasSuffix("/scan"), let marker = path.range(of: "/manifests/", options: .backwards) else {
            throw AdminError.notFound("no such endpoint")
        }
        let repository: RepositoryName
        do { repository = try RepositoryName(parsing: path[..<marker.lowerBound]) } catch {
            throw AdminError.invalid(error.description)
        }
        guard let digest = try? Digest(parsing: path[marker.upperBound...].dropLast("/scan".count)) else {
            throw AdminError.invalid("the manifest is named by its digest (sha256:…)")
        }
        return (repository, digest)
    }
}

/// One image's scan result as the API shows it.
struct ScanResultView: Encodable {
    var manifest: String
    /// `succeeded`, `failed`, `unsupported` (not a container image) or `pending`.
    var status: String
    var reason: String?
    var scannedAt: Date?
    var databaseImport: Int64?
    var operatingSystem: OperatingSystem?
    var packageCount: Int?
    var summary: SeveritySummary?
    var findings: [FindingView]?
    var packages: [Package]?

    init(_ manifest: Digest, _ stored: StoredScan?, packages withPackages: Bool) throws {
        self.manifest = manifest.description
        guard let stored else {
            status = "pending"
            return
        }
        status = stored.record.status.rawValue
        reason = stored.record.reason
        scannedAt = stored.record.scannedAt
        databaseImport = stored.record.databaseImport
        if let report = stored.report {
            operatingSystem = report.operatingSystem
            packageCount = report.packages.count
            summary = report.summary
            findings = report.findings.map(FindingView.init)
            if withPackages { packages = report.packages }
        }
    }
}

struct IndexScanView: Encodable {
    var manifest: String
    var images: [ScanResultView]
}

/// A finding: `fixed` and `score` are null when the advisory gives none.
struct FindingView: Encodable {
    let finding: Finding

    enum Keys: String, CodingKey {
        case id, aliases, summary, package, ecosystem, sourcePackage, installed, fixed, severity, score, vector, layer, purl
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(finding.advisoryID, forKey: .id)
        try container.encode(finding.aliases, forKey: .aliases)
        try container.encode(finding.summary, forKey: .summary)
        try container.encode(finding.packageName, forKey: .package)
        try container.encode(finding.ecosystem.rawValue, forKey: .ecosystem)
        try container.encodeIfPresent(finding.sourceName, forKey: .sourcePackage)
        try container.encode(finding.installedVersion, forKey: .installed)
        try container.encode(finding.fixedVersion, forKey: .fixed)
        try container.encode(finding.severity.rawValue, forKey: .severity)
        try container.encode(finding.score, forKey: .score)
        try container.encodeIfPresent(finding.vector, forKey: .vector)
        try container.encode(finding.layerIndex, forKey: .layer)
        try container.encode(finding.purl, forKey: .purl)
    }
}
