import Foundation
import Hummingbird
import KuraAccess
import KuraCore
import KuraMetadata
import KuraRegistry
import KuraMirror
import KuraScan
import NIOCore

/// The admin API under `/api/v1/`: JSON over the same credentials as the registry (Basic
/// with an access key). Handlers parse and check input strictly; the rules are in
/// ``AccessAdmin``.
struct AdminAPI: Sendable {
    let admin: AccessAdmin
    /// Flushed before a usage report, so the report includes the latest requests.
    var meter: UsageMeter? = nil
    /// Forgets its cached webhooks when they change here.
    var webhooks: WebhookDispatcher? = nil
    /// Replication rules and runs (`/api/v1/replication/…`), when the server runs them.
    var replicator: Replicator? = nil
    /// The request-rate limits, shared with `/v2/` (one budget per key and per address).
    var rateLimiter: RequestRateLimiter? = nil
    /// Image scan results, manual scans and re-matching, when the server scans.
    var scanning: ScanService? = nil
    /// Forgets its cached policies when they change here.
    var scanPolicy: ScanPullPolicy? = nil

    func register(on router: Router<KuraRequestContext>) {
        let api = router.group("/api/v1")
        if let replicator { registerReplication(on: api, replicator) }
        // The description of this API, for anyone (it holds no data).
        api.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .contentLength: String(AdminAPI.openAPIDocument.count)],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: AdminAPI.openAPIDocument)))
        }
        api.get("whoami") { r, c in await handle(r, c) { caller, _ in try whoami(caller) } }
        api.get("namespaces") { r, c in await handle(r, c) { caller, _ in try encode(await admin.namespaces(caller).map(NamespaceView.init)) } }
        api.post("namespaces") { r, c in
            await handle(r, c) { caller, body in
                let json = try body.object(allowed: ["name", "public"])
                let record = try await admin.createNamespace(caller, name: try json.string("name"), isPublic: try json.bool("public") ?? false)
                return (.created, try encode(NamespaceView(record)).1)
            }
        }
        api.patch("namespaces/:name") { r, c in
            await handle(r, c) { caller, body in
                let json = try body.object(allowed: ["public"])
                guard let isPublic = try json.bool("public") else { throw AdminError.invalid("public is required") }
                try await admin.setNamespacePublic(caller, name: try c.parameters.require("name"), isPublic: isPublic)
                return try noContent()
            }
        }
        api.delete("namespaces/:name") { r, c in
            await handle(r, c) { caller, _ in
                let force = r.uri.queryParameters["force"] == "true"
                let removed = try await admin.deleteNamespace(caller, name: try c.parameters.require("name"), force: force)
                return try encode(["removedRepositories": removed.map(\.value)])
            }
        }
        api.get("accounts") { r, c in await handle(r, c) { caller, _ in try encode(await admin.accounts(caller).map(AccountView.init)) } }
        api.post("accounts") { r, c in
            await handle(r, c) { caller, body in
                let json = try body.object(allowed: ["name", "admin"])
                let account = try await admin.createAccount(caller, name: try json.string("name"), isAdmin: try json.bool("admin") ?? false)
                return (.created, try encode(AccountView(account)).1)
            }
        }
        api.patch("accounts/:name") { r, c in
            await handle(r, c) { caller, body in
                let json = try body.object(allowed: ["disabled"])
                guard let disabled = try json.bool("disabled") else { throw AdminError.invalid("disabled is required") }
                try await admin.setAccountDisabled(caller, name: try c.parameters.require("name"), disabled: disabled)
                return try noContent()
            }
        }
        api.delete("accounts/:name") { r, c in
            await handle(r, c) { caller, _ in
                try await admin.deleteAccount(caller, name: try c.parameters.require("name"))
                return try noContent()
            }
        }
        api.get("accounts/:name/keys") { r, c in
            await handle(r, c) { caller, _ in try encode(await admin.keys(caller, account: try c.parameters.require("name")).map(KeyView.init)) }
        }
        api.post("accounts/:name/keys") { r, c in
            await handle(r, c) { caller, body in
                _ = try body.object(allowed: [], optional: true)
                return (.created, try encode(await admin.createKey(caller, account: try c.parameters.require("name"))).1)
            }
        }
        api.patch("keys/:id") { r, c in
            await handle(r, c) { caller, body in
                let json = try body.object(allowed: ["status"])
                guard let status = AccessKeyRecord.Status(rawValue: try json.string("status")) else {
                    throw AdminError.invalid("status must be active or disabled")
                }
                try await admin.setKeyStatus(caller, id: try c.parameters.require("id"), status: status)
                return try noContent()
            }
        }
        api.delete("keys/:id") { r, c in
            await handle(r, c) { caller, _ in
                try await admin.deleteKey(caller, id: try c.parameters.require("id"))
                return try noContent()
            }
        }
        api.get("accounts/:name/grants") { r, c in
            await handle(r, c) { caller, _ in try encode(await admin.grants(caller, account: try c.parameters.require("name"))) }
        }
        api.put("accounts/:name/grants/:namespace") { r, c in
            await handle(r, c) { caller, body in
                let json = try body.object(allowed: ["role"])
                guard let role = Role(rawValue: try json.string("role")) else { throw AdminError.invalid("role must be manager or viewer") }
                try await admin.setGrant(
                    caller, account: try c.parameters.require("name"), namespace: Self.namespaceParameter(try c.parameters.require("namespace")),
                    role: role)
                return try noContent()
            }
        }
        api.delete("accounts/:name/grants/:namespace") { r, c in
            await handle(r, c) { caller, _ in
                try await admin.removeGrant(
                    caller, account: try c.parameters.require("name"), namespace: Self.namespaceParameter(try c.parameters.require("namespace")))
                return try noContent()
            }
        }
        for method in [HTTPRequest.Method.get, .put] {
            api.on("repositories/**", method: method) { r, c in
                await handle(r, c) { caller, body in
                    let path = r.uri.path.dropFirst("/api/v1/repositories/".count)
                    if r.method == .get, path.hasSuffix("/scan") { return try await scanResult(caller, r, path: path) }
                    guard path.hasSuffix("/description") else { throw AdminError.notFound("no such endpoint") }
                    let repository: RepositoryName
                    do { repository = try RepositoryName(parsing: path.dropLast("/description".count)) } catch let error as RepositoryNameError {
                        throw AdminError.invalid(error.description)
                    }
                    if r.method == .get { return try encode(await admin.description(caller, repository: repository)) }
                    let json = try body.object(allowed: ["short", "full"])
                    // A field absent from the body is left as it is; an empty one clears it.
                    return try encode(
                        await admin.setDescription(caller, repository: repository, short: try json.optionalString("short"), full: try json.optionalString("full")))
                }
            }
        }
        api.get("jobs") { r, c in
            await handle(r, c) { caller, _ in
                guard caller.principal.isAdmin else { throw AdminError.denied("only root or an account admin may read job runs") }
                let runs = try await admin.registry.jobRuns(
                    kind: r.uri.queryParameters["kind"].map { String($0) }, limit: min(1000, r.uri.queryParameters["limit"].flatMap { Int($0) } ?? 100))
                return try encode(runs.map(JobRunView.init))
            }
        }
        api.get("audit") { r, c in
            await handle(r, c) { caller, _ in
                let q = r.uri.queryParameters
                let query = AuditQuery(
                    account: q["account"].map(String.init), namespace: q["namespace"].map(String.init), action: q["action"].map { String($0) },
                    since: try Self.date(q, "since"), until: try Self.date(q, "until"), limit: q["limit"].flatMap { Int($0) } ?? 1000)
                return try encode(await admin.auditEvents(caller, query))
            }
        }
        registerUsage(on: api)
        registerWebhooks(on: api)
        registerScans(on: api)
    }

    /// An ISO 8601 date-time query parameter.
    static func date(_ query: Parameters, _ key: String) throws -> Date? {
        guard let text = query[Substring(key)] else { return nil }
        guard let date = ISO8601DateFormatter().date(from: String(text)) else {
            throw AdminError.invalid("\(key) must be an ISO 8601 date-time, e.g. 2026-11-29T10:00:00Z")
        }
        return date
    }

    /// `Sources/KuraHTTP/Resources/openapi.json` (also `docs/admin-api.openapi.json`).
    static var openAPIDocument: [UInt8] { PackageResources.openapi_json }

    static func namespaceParameter(_ text: String) -> String { text == "_all" ? Grant.allNamespaces : text }

    // MARK: plumbing

    typealias Result = (HTTPResponse.Status, [UInt8]?)

    func handle(
        _ request: Request, _ context: KuraRequestContext, contentType: String = "application/json",
        _ body: @Sendable (AccessAdmin.Caller, RequestJSON) async throws -> Result
    ) async -> Response {
        let authenticator = RequestAuthenticator(access: admin.access)
        do {
            // As on /v2/: the address is limited before any work, the key once it is known.
            try admit(address: context.sourceAddress, keyID: nil)
            let principal: Principal
            do { principal = try await authenticator.principal(of: request, sourceAddress: context.sourceAddress) } catch let failure as RequestAuthenticator.Failure {
                if let retry = failure.retryAfter { throw AdminError.tooManyRequests(failure.message, retryAfterSeconds: retry) }
                throw AdminError(code: "UNAUTHORIZED", status: 401, failure.message)
            }
            RequestObservation.current?.identify(principal)
            guard !principal.isAnonymous, principal.tokenAccess == nil else {
                throw AdminError(code: "UNAUTHORIZED", status: 401, "the admin API needs access key credentials (Basic)")
            }
            try admit(address: nil, keyID: principal.keyID)
            var request = request
            let bytes = try await request.collectBody(upTo: 128 << 10)
            let (status, json) = try await body(AccessAdmin.Caller(principal: principal, sourceAddress: context.sourceAddress), RequestJSON(bytes: bytes))
            var headers: HTTPFields = [.contentLength: String(json?.count ?? 0)]
            if json != nil { headers[.contentType] = contentType }
            return Response(status: status, headers: headers, body: json.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody())
        } catch let error as AdminError {
            return Self.errorResponse(error)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return Self.errorResponse(AdminError(code: "INVALID_REQUEST", status: 413, "request body too large"))
        } catch let error as RegistryError {
            return ErrorResponse.response(for: error, isHead: false)
        } catch {
            context.logger.error("admin API failure", metadata: ["error": "\(error)"])
            return Self.errorResponse(AdminError(code: "INTERNAL_ERROR", status: 500, "internal error"))
        }
    }

    /// Refuses a request over its rate (per source address or per access key) with 429 and
    /// `Retry-After`, sharing the buckets of `/v2/`.
    private func admit(address: String?, keyID: String?) throws {
        guard let rateLimiter, let wait = rateLimiter.admit(address: address, keyID: keyID) else { return }
        throw AdminError.tooManyRequests("request rate limit reached; retry in \(wait) s", retryAfterSeconds: wait)
    }

    static func errorResponse(_ error: AdminError) -> Response {
        RequestObservation.current?.update { $0.reason = "\(error.code): \(error.message)" }
        var headers: HTTPFields = [.contentType: "application/json"]
        if error.status == 401 { headers[.wwwAuthenticate] = "Basic realm=\"kura\"" }
        if let retry = error.retryAfterSeconds { headers[.retryAfter] = String(retry) }
        struct Item: Encodable { var code: String; var message: String }
        let body = try? JSONEncoder.stable.encode(["errors": [Item(code: error.code, message: error.message)]])
        return Response(status: HTTPResponse.Status(code: error.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body ?? Data())))
    }

    private func whoami(_ caller: AccessAdmin.Caller) throws -> Result {
        try encode(
            WhoAmI(account: caller.principal.accountName ?? "", accessKeyID: caller.principal.keyID, root: caller.principal.isRoot,
                   admin: caller.principal.isAdmin, grants: caller.principal.grants))
    }
}

func encode(_ value: some Encodable) throws -> AdminAPI.Result {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return (.ok, Array(try encoder.encode(value)))
}

func noContent() throws -> AdminAPI.Result { (.noContent, nil) }

struct WhoAmI: Encodable {
    var account: String
    var accessKeyID: String?
    var root: Bool
    var admin: Bool
    var grants: [Grant]
}

struct NamespaceView: Encodable {
    var name: String
    var `public`: Bool
    var createdAt: Date
    init(_ record: NamespaceRecord) {
        name = record.name
        `public` = record.isPublic
        createdAt = record.createdAt
    }
}

struct AccountView: Encodable {
    var name: String
    var root: Bool
    var admin: Bool
    var disabled: Bool
    var createdAt: Date
    init(_ account: Account) {
        name = account.name
        root = account.isRoot
        admin = account.isAdmin
        disabled = account.disabled
        createdAt = account.createdAt
    }
}

/// A recorded job run; `summary` is the job's own JSON summary.
struct JobRunView: Encodable {
    var id: Int64
    var kind: String
    var owner: String
    var startedAt: Date
    var finishedAt: Date?
    var dryRun: Bool
    var summary: String?
    var error: String?
    init(_ run: JobRunRecord) {
        id = run.id
        kind = run.kind
        owner = run.owner
        startedAt = run.startedAt
        finishedAt = run.finishedAt
        dryRun = run.dryRun
        summary = run.summary
        error = run.error
    }
}

/// A key as the API shows it: never the secret or its hash.
struct KeyView: Encodable {
    var accessKeyID: String
    var account: String
    var status: String
    var createdAt: Date
    var lastUsedAt: Date?
    init(_ key: AccessKeyRecord) {
        accessKeyID = key.id
        account = key.account
        status = key.status.rawValue
        createdAt = key.createdAt
        lastUsedAt = key.lastUsedAt
    }
}

/// A request body read as a JSON object, strictly: unknown fields and wrong types are 400s.
struct RequestJSON: Sendable {
    let bytes: ByteBuffer

    struct Object {
        let values: [String: Any]

        func string(_ key: String) throws -> String {
            guard let value = values[key] else { throw AdminError.invalid("\(key) is required") }
            guard let text = value as? String else { throw AdminError.invalid("\(key) must be a string") }
            return text
        }

        /// A string, or `nil` when absent.
        func optionalString(_ key: String) throws -> String? {
            values[key] == nil ? nil : try string(key)
        }

        func string(_ key: String, default fallback: String) throws -> String {
            values[key] == nil ? fallback : try string(key)
        }

        /// A list of strings, or `nil` when absent.
        func strings(_ key: String) throws -> [String]? {
            guard let value = values[key] else { return nil }
            guard let list = value as? [Any], let texts = list as? [String] else { throw AdminError.invalid("\(key) must be a list of strings") }
            return texts
        }

        /// A whole number, or `nil` when absent or JSON null.
        func int64(_ key: String) throws -> Int64? {
            guard let value = values[key], !(value is NSNull) else { return nil }
            guard let number = value as? Int else { throw AdminError.invalid("\(key) must be a whole number") }
            return Int64(number)
        }

        func bool(_ key: String) throws -> Bool? {
            guard let value = values[key] else { return nil }
            guard let flag = value as? Bool else { throw AdminError.invalid("\(key) must be true or false") }
            return flag
        }
    }

    func object(allowed: Set<String>, optional: Bool = false) throws -> Object {
        if bytes.readableBytes == 0 {
            if optional || allowed.isEmpty { return Object(values: [:]) }
            throw AdminError.invalid("a JSON object body is required")
        }
        do {
            try StrictJSON.validate(bytes.readableBytesView)
        } catch {
            throw AdminError.invalid("the body is not strict JSON: \(error)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any] else {
            throw AdminError.invalid("the body must be a JSON object")
        }
        let unknown = Set(object.keys).subtracting(allowed)
        guard unknown.isEmpty else { throw AdminError.invalid("unknown fields: \(unknown.sorted().joined(separator: ", "))") }
        return Object(values: object)
    }
}
