import Hummingbird
import HTTPTypes
import KuraCore
import KuraMirror
import KuraRegistry
import NIOCore

extension RegistryAPI {
    /// GET/HEAD `/v2/<name>/manifests/<reference>`: the stored bytes, as they were pushed.
    func getManifest(_ request: Request, _ name: RepositoryName, _ referenceText: String) async throws -> Response {
        let reference = try readableReference(referenceText)
        if let proxy, let fetched = try await proxy.manifest(reference, in: name) {
            if request.method == .head { return emptyManifestResponse(fetched.mediaType, fetched.digest, size: Int64(fetched.bytes.readableBytes)) }
            let headers: HTTPFields = [
                .contentType: fetched.mediaType, .dockerContentDigest: fetched.digest.description, .eTag: "\"\(fetched.digest)\"",
                .contentLength: String(fetched.bytes.readableBytes),
            ]
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: fetched.bytes))
        }
        if request.method == .head {
            let record = try await registry.manifestRecord(reference, in: name)
            return emptyManifestResponse(record.mediaType, record.digest, size: record.size)
        }
        let (record, bytes) = try await registry.manifest(reference, in: name)
        let headers: HTTPFields = [
            .contentType: record.mediaType,
            .dockerContentDigest: record.digest.description,
            .eTag: "\"\(record.digest)\"",
            .contentLength: String(bytes.readableBytes),
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: bytes))
    }

    private func emptyManifestResponse(_ mediaType: String, _ digest: Digest, size: Int64) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: mediaType, .dockerContentDigest: digest.description, .eTag: "\"\(digest)\"",
                .contentLength: String(size),
            ])
    }

    /// PUT `/v2/<name>/manifests/<reference>` (with `?tag=` for extra tags).
    func putManifest(_ request: Request, _ name: RepositoryName, _ referenceText: String, caller: Caller) async throws -> Response {
        let reference = try Reference(parsing: referenceText)
        var tags: [Tag] = []
        for text in request.uri.queryParameters[values: "tag"] {
            do { tags.append(try Tag(parsing: text)) } catch {
                throw RegistryError(.manifestInvalid, "invalid tag", detail: error.description)
            }
        }
        let limit = registry.limits.maxManifestBytes
        if let length = try contentLength(request), length > Int64(limit) {
            throw RegistryError(.manifestInvalid, "manifest too large", detail: "limit is \(limit) bytes", status: 413)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw RegistryError(.manifestInvalid, "manifest too large", detail: "limit is \(limit) bytes", status: 413)
        }
        let contentType = request.headers[.contentType].map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) }
        let result = try await registry.putManifest(
            body, contentType: contentType, reference: reference, in: name, additionalTags: tags)
        var headers: HTTPFields = [
            .location: "/v2/\(name)/manifests/\(result.digest)",
            .dockerContentDigest: result.digest.description,
            .contentLength: "0",
        ]
        if let subject = result.subject { headers[.ociSubject] = subject.description }
        await audit(caller.event("manifest.push", repository: name, detail: "\(referenceText) \(result.digest)"), caller)
        replicator?.pushed(name.value)
        for tag in tags { headers.append(HTTPField(name: .ociTag, value: tag.value)) }
        return Response(status: .created, headers: headers)
    }

    /// DELETE `/v2/<name>/manifests/<reference>`: a tag, or a manifest with its tags.
    func deleteManifest(_ name: RepositoryName, _ referenceText: String, caller: Caller) async throws -> Response {
        let reference = try readableReference(referenceText)
        let digest = try await registry.deleteManifest(reference, in: name)
        await audit(caller.event(reference.tag == nil ? "manifest.delete" : "tag.delete", repository: name, detail: referenceText), caller)
        // The digest deleted, or the one the tag pointed at: webhooks and logs report it.
        return emptyResponse(.accepted, headers: [.dockerContentDigest: digest.description])
    }

    /// A reference to read or delete. A malformed tag cannot name anything stored, so it is
    /// `MANIFEST_UNKNOWN` (404); a malformed digest stays `DIGEST_INVALID` (400).
    private func readableReference(_ text: String) throws -> Reference {
        do { return try Reference(parsing: text) } catch {
            if error.code == .manifestInvalid { throw RegistryError(.manifestUnknown, detail: text) }
            throw error
        }
    }
}
