import HTTPTypes
import KuraCore
import KuraMetadata

extension V2Endpoint {
    /// The route pattern, for metrics and access logs (bounded cardinality).
    var routePattern: String {
        switch self {
        case .base: "/v2/"
        case .catalog: "/v2/_catalog"
        case .tags: "/v2/{name}/tags/list"
        case .manifest: "/v2/{name}/manifests/{reference}"
        case .blob: "/v2/{name}/blobs/{digest}"
        case .uploads: "/v2/{name}/blobs/uploads/"
        case .upload: "/v2/{name}/blobs/uploads/{id}"
        case .referrers: "/v2/{name}/referrers/{digest}"
        }
    }

    /// What a request to this endpoint counts as; `nil` for the unmetered base endpoint.
    /// `isMount` marks a `POST …/uploads/?mount=`.
    func usageKind(_ method: HTTPRequest.Method, isMount: Bool) -> UsageKind? {
        switch (self, method) {
        case (.base, _): nil
        case (.catalog, _): .catalog
        case (.tags, _): .tagList
        case (.referrers, _): .referrers
        case (.manifest, .head): .manifestHead
        case (.manifest, .put): .manifestPush
        case (.manifest, .delete): .manifestDelete
        case (.manifest, _): .manifestPull
        case (.blob, .head): .blobHead
        case (.blob, .delete): .blobDelete
        case (.blob, _): .blobPull
        case (.uploads, _): isMount ? .blobMount : .blobUpload
        case (.upload, _): .blobUpload
        }
    }

    /// The repository the endpoint addresses, if any.
    var repository: RepositoryName? {
        switch self {
        case .base, .catalog: nil
        case .tags(let name), .manifest(let name, _), .blob(let name, _), .uploads(let name), .upload(let name, _), .referrers(let name, _):
            name
        }
    }
}
