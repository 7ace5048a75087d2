import Foundation
import Hummingbird
import KuraCore
import KuraRegistry

extension RegistryAPI {
    /// GET `/v2/<name>/tags/list?n=&last=`.
    func tags(_ request: Request, _ name: RepositoryName) async throws -> Response {
        let (limit, last) = try pagination(request)
        // One more than asked tells whether a next page exists.
        let wanted = limit.map { $0 + 1 }
        let proxied = try await proxy?.tags(in: name, after: last, limit: wanted)
        let page = if let proxied { proxied } else { try await registry.tags(in: name, after: last, limit: wanted) }
        let shown = limit.map { Array(page.prefix($0)) } ?? page
        struct Body: Encodable {
            var name: String
            var tags: [String]
        }
        var headers: HTTPFields = [:]
        if let limit, page.count > limit, let lastShown = shown.last {
            headers[.link] = "</v2/\(name)/tags/list?n=\(limit)&last=\(lastShown)>; rel=\"next\""
        }
        return jsonResponse(try encode(Body(name: name.value, tags: shown.map(\.value))), headers: headers)
    }

    /// GET `/v2/_catalog?n=&last=`.
    func catalog(_ request: Request, caller: Caller) async throws -> Response {
        let (limit, last) = try pagination(request)
        // One more than asked tells whether a next page exists.
        let wanted = (limit ?? registry.limits.maxPageSize) + 1
        let page = try await registry.repositories(after: last, limit: wanted, isVisible: catalogFilter(caller))
        let shown = Array(page.prefix(wanted - 1))
        struct Body: Encodable { var repositories: [String] }
        var headers: HTTPFields = [:]
        if page.count >= wanted, let lastShown = shown.last {
            headers[.link] = "</v2/_catalog?n=\(wanted - 1)&last=\(lastShown)>; rel=\"next\""
        }
        return jsonResponse(try encode(Body(repositories: shown.map(\.value))), headers: headers)
    }

    /// GET `/v2/<name>/referrers/<digest>?artifactType=`.
    func referrers(_ request: Request, _ name: RepositoryName, _ digestText: String) async throws -> Response {
        let digest = try parseDigest(digestText)
        let artifactType = request.uri.queryParameters["artifactType"].map(String.init)
        let index = try await registry.referrers(of: digest, in: name, artifactType: artifactType)
        var headers: HTTPFields = [:]
        if index.filteredByArtifactType { headers[.ociFiltersApplied] = "artifactType" }
        return jsonResponse(index.body, contentType: MediaType.ociIndex, headers: headers)
    }

    private func pagination(_ request: Request) throws -> (limit: Int?, last: String?) {
        let query = request.uri.queryParameters
        var limit: Int?
        if let n = query["n"] {
            guard let value = Int(n), value >= 0 else {
                throw RegistryError(.unsupported, "n must be a non-negative integer", detail: String(n), status: 400)
            }
            limit = min(value, registry.limits.maxPageSize)
        }
        return (limit, query["last"].map(String.init))
    }

    private func encode(_ value: some Encodable) throws -> [UInt8] {
        Array(try JSONEncoder.stable.encode(value))
    }
}
