import Hummingbird
import KuraCore
import KuraRegistry
import KuraStorage
import NIOCore

extension RegistryAPI {
    /// POST `/v2/<name>/blobs/uploads/`: a mount (`?mount=&from=`), a monolithic upload
    /// (`?digest=`), or a new session (`?digest-algorithm=` optional).
    func startUpload(_ request: Request, _ name: RepositoryName, caller: Caller) async throws -> Response {
        let query = request.uri.queryParameters
        if let mount = query["mount"] {
            let digest = try parseDigest(String(mount))
            // An invalid `from` cannot hold the blob: fall through to a new session.
            let source = query["from"].flatMap { try? RepositoryName(parsing: $0) }
            if query["from"] == nil || source != nil,
                let info = try await registry.mountBlob(digest, into: name, from: source, mayRead: { try await callerCanPull(caller, $0) })
            {
                return blobCreated(name, info.digest)
            }
            return try await newSession(name, algorithm: nil)
        }
        if let digestText = query["digest"] {
            let digest = try parseDigest(String(digestText))
            let info = try await registry.uploadBlob(request.body, digest: digest, length: try contentLength(request), into: name)
            return blobCreated(name, info.digest)
        }
        var algorithm: DigestAlgorithm?
        if let requested = query["digest-algorithm"] {
            guard let parsed = DigestAlgorithm(rawValue: String(requested)) else {
                throw RegistryError(.digestInvalid, "unsupported digest algorithm", detail: String(requested))
            }
            algorithm = parsed
        }
        return try await newSession(name, algorithm: algorithm)
    }

    private func newSession(_ name: RepositoryName, algorithm: DigestAlgorithm?) async throws -> Response {
        let status = try await registry.startUpload(in: name, algorithm: algorithm)
        return emptyResponse(.accepted, headers: sessionHeaders(name, status))
    }

    /// PATCH `<location>`: one chunk, with `Content-Range` (chunked) or without (streamed).
    func patchUpload(_ request: Request, _ name: RepositoryName, _ id: String) async throws -> Response {
        let (start, length) = try chunkRange(request)
        do {
            let status = try await registry.appendUpload(id, in: name, start: start, length: length, body: request.body)
            return emptyResponse(.accepted, headers: sessionHeaders(name, status))
        } catch let error as RegistryError where error.code == .rangeInvalid {
            return try await outOfOrder(error, name, id)
        }
    }

    /// PUT `<location>?digest=`: completes the session, with an optional last chunk.
    func putUpload(_ request: Request, _ name: RepositoryName, _ id: String) async throws -> Response {
        guard let digestText = request.uri.queryParameters["digest"] else {
            throw RegistryError(.digestInvalid, "the digest query parameter is required")
        }
        let digest = try parseDigest(String(digestText))
        let (start, length) = try chunkRange(request)
        do {
            let info = try await registry.completeUpload(
                id, in: name, digest: digest, start: start, length: length, lastChunk: request.body)
            return blobCreated(name, info.digest)
        } catch let error as RegistryError where error.code == .rangeInvalid {
            return try await outOfOrder(error, name, id)
        }
    }

    /// GET `<location>`: the session's offset.
    func uploadStatus(_ name: RepositoryName, _ id: String) async throws -> Response {
        let status = try await registry.uploadStatus(id, in: name)
        return emptyResponse(.noContent, headers: sessionHeaders(name, status))
    }

    /// DELETE `<location>`: cancels the session.
    func cancelUpload(_ name: RepositoryName, _ id: String) async throws -> Response {
        try await registry.cancelUpload(id, in: name)
        return emptyResponse(.noContent)
    }

    // MARK: helpers

    /// A 416 that also says where the session stands, so the client can resume.
    private func outOfOrder(_ error: RegistryError, _ name: RepositoryName, _ id: String) async throws -> Response {
        var headers: HTTPFields = [.dockerDistributionAPIVersion: "registry/2.0"]
        if let status = try? await registry.uploadStatus(id, in: name) {
            headers.append(contentsOf: sessionHeaders(name, status))
        }
        return ErrorResponse.response(for: error, isHead: false, headers: headers)
    }

    private func chunkRange(_ request: Request) throws -> (start: Int64?, length: Int64?) {
        let declaredLength = try contentLength(request)
        guard let header = request.headers[.contentRange] else { return (nil, declaredLength) }
        guard let range = HTTPRanges.uploadContentRange(header) else {
            throw RegistryError(.rangeInvalid, "invalid Content-Range", detail: header)
        }
        if let declaredLength, declaredLength != range.length {
            throw RegistryError(
                .rangeInvalid, "Content-Range and Content-Length disagree",
                detail: "range has \(range.length) bytes, Content-Length is \(declaredLength)")
        }
        return (range.start, range.length)
    }

    /// The declared `Content-Length`, or `nil` without one; anything but a non-negative
    /// decimal that fits in Int64 is refused.
    func contentLength(_ request: Request) throws -> Int64? {
        guard let text = request.headers[.contentLength] else { return nil }
        guard let length = request.headers.declaredContentLength else {
            throw RegistryError(.sizeInvalid, "invalid Content-Length", detail: text, status: 400)
        }
        return length
    }

    private func sessionHeaders(_ name: RepositoryName, _ status: UploadStatus) -> HTTPFields {
        [
            .location: "/v2/\(name)/blobs/uploads/\(status.id)",
            .range: "0-\(max(0, status.offset - 1))",
            .dockerUploadUUID: status.id.value,
            .ociChunkMinLength: String(registry.minimumChunkLength),
        ]
    }

    private func blobCreated(_ name: RepositoryName, _ digest: Digest) -> Response {
        emptyResponse(.created, headers: [.location: "/v2/\(name)/blobs/\(digest)", .dockerContentDigest: digest.description])
    }
}
