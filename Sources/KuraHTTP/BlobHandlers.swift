import Hummingbird
import KuraCore
import KuraMirror
import KuraRegistry
import KuraStorage
import NIOCore

extension RegistryAPI {
    /// GET/HEAD `/v2/<name>/blobs/<digest>`, with `Range` support on GET; a stored blob's body
    /// is written on `channel`, the connection's.
    func getBlob(_ request: Request, _ name: RepositoryName, _ digestText: String, on channel: any Channel) async throws -> Response {
        let digest = try parseDigest(digestText)
        if let proxy, proxy.covers(name), let response = try await proxiedBlob(proxy, request, name, digest) { return response }
        let info = try await registry.blobInfo(digest, in: name)
        var headers: HTTPFields = [
            .contentType: "application/octet-stream",
            .dockerContentDigest: digest.description,
            .eTag: "\"\(digest)\"",
            .acceptRanges: "bytes",
            .cacheControl: "max-age=31536000",
        ]
        if request.method == .head {
            headers[.contentLength] = String(info.size)
            return Response(status: .ok, headers: headers)
        }
        // A redirect carries the client's Range header to the object store, which honours it.
        if let url = try await registry.pullRedirect(for: info) {
            return Response(
                status: .temporaryRedirect,
                headers: [.location: url.absoluteString, .dockerContentDigest: digest.description, .contentLength: "0"])
        }
        switch HTTPRanges.request(request.headers[.range], size: info.size) {
        case .unsatisfiable:
            return ErrorResponse.response(
                for: RegistryError(.rangeInvalid, detail: "blob size is \(info.size)"), isHead: false,
                headers: [.contentRange: "bytes */\(info.size)", .dockerDistributionAPIVersion: "registry/2.0"])
        case .whole:
            let read = try await registry.readBlob(info, range: nil)
            headers[.contentLength] = String(read.size)
            return Response(status: .ok, headers: headers, body: body(of: read, on: channel))
        case .partial(let range):
            let read = try await registry.readBlob(info, range: range)
            headers[.contentLength] = String(range.count)
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(read.size)"
            return Response(status: .partialContent, headers: headers, body: body(of: read, on: channel))
        }
    }

    /// The body of a stored blob's read: sent from its file by the kernel where both allow
    /// it (a filesystem backend, a plain HTTP/1.1 connection), otherwise streamed.
    private func body(of read: BlobRead, on channel: any Channel) -> ResponseBody {
        guard let file = read.file else { return .streaming(read.body, writingOn: channel.eventLoop) }
        return .sendingFile(file, orStreaming: read.body, on: channel)
    }

    /// DELETE `/v2/<name>/blobs/<digest>`.
    func deleteBlob(_ name: RepositoryName, _ digestText: String) async throws -> Response {
        let digest = try parseDigest(digestText)
        try await registry.deleteBlob(digest, in: name)
        return emptyResponse(.accepted, headers: [.dockerContentDigest: digest.description])
    }

    /// A blob of a proxy namespace that is not here yet: its size (HEAD), or its bytes as they
    /// arrive from the upstream (GET, whole). Nil once it is here; a GET with `Range` waits
    /// until it is stored, then the stored copy answers the range.
    private func proxiedBlob(_ proxy: PullThroughCache, _ request: Request, _ name: RepositoryName, _ digest: Digest) async throws -> Response? {
        var headers: HTTPFields = [.contentType: "application/octet-stream", .dockerContentDigest: digest.description, .eTag: "\"\(digest)\""]
        if request.method == .head {
            guard let size = try await proxy.blobSize(digest, in: name) else { return nil }
            headers[.contentLength] = String(size)
            return Response(status: .ok, headers: headers)
        }
        if request.headers[.range] != nil {
            try await proxy.storeBlob(digest, in: name)
            return nil
        }
        guard let arriving = try await proxy.blob(digest, in: name) else { return nil }
        headers[.contentLength] = String(arriving.size)
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: arriving.body))
    }
}
