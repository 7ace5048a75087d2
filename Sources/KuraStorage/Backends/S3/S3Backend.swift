public import AsyncHTTPClient
public import Foundation
public import NIOCore
import NIOHTTP1
import Synchronization

/// An ``ObjectBackend`` over an S3-compatible bucket (AWS S3, SeaweedFS, MinIO…), with AWS
/// Signature Version 4: streamed GETs on connections of its own (``StreamedReadConnections``),
/// every other call on async-http-client.
///
/// ## Layout
///
/// A key `K` is the object `<keyPrefix>K` in the bucket. Besides those, the backend keeps
/// assembled (multipart) objects under `<keyPrefix>.kura/objects/<uuid>`; `.kura` can
/// never be a key (``ObjectKey`` refuses components starting with `.`), and `list` skips it.
///
/// ## No copy on commit: markers
///
/// S3 cannot rename. Instead of copying a finished upload to its digest key, the bytes stay
/// in the object the multipart upload wrote (`.kura/objects/<uuid>`, the *target*) and the
/// visible key holds a small *marker* object: its user metadata `x-amz-meta-kura-target`
/// and `x-amz-meta-kura-size` name the target and its size, and its body is the same as
/// JSON, so the mapping can be rebuilt from a listing.
/// - `completeAppend` completes the multipart upload at the target, then writes the marker
///   at the handle's key.
/// - `publish(staged, to: key)` writes a marker at `key` naming the staged marker's target
///   and deletes the staged marker: two small requests, no data copied. If `key` already
///   exists, the staged marker and its target are deleted instead (`.alreadyExisted`).
///   A staged object that is not a marker (written by `put`) is moved with a server-side
///   `CopyObject`; ``BlobStore`` never does that, since every blob goes through the append path.
/// - `stat`, `get` and `delete` resolve markers transparently: `stat` reports the target's
///   size, `get` reads the target, `delete` removes the marker and then the target.
/// - Markers never change (a key is a content address), so the backend remembers
///   marker → target in a bounded in-memory cache: a pull of a known blob costs one request.
///   A cached target that has gone (deleted through another node) is dropped and the marker
///   resolved again.
/// - `list` reports a marker's own (small) size, not the target's; callers that need the
///   blob size `stat` the key.
/// - Crash leftovers are harmless but cost space: a target whose marker was never written
///   (a crash inside `completeAppend`) or lost a publish race stays under `.kura/objects/`
///   unreferenced until a scrub removes it.
///
/// ## Failures
///
/// Each request is retried with jittered exponential backoff on connection errors, 5xx and
/// `SlowDown`, up to ``S3Configuration/maxAttempts``; a backend that stays down throws
/// ``StorageError/unavailable(_:)``. Bodies are `ByteBuffer`s that can be sent again, so
/// retries are safe; a streamed read is retried only until its response head arrives, and a
/// read that ends early throws rather than returning fewer bytes.
public final class S3Backend: ObjectBackend {
    /// S3's smallest part except the last.
    public static let minimumPartSize = 5 << 20
    /// How far a streamed read runs ahead of its reader (``StreamedBody``): the memory each
    /// concurrent read may hold.
    static let readAheadBytes = 2 << 20

    /// A client shared by every backend that is not given one: connect timeout 3 s, read
    /// (idle) timeout 60 s, no redirects. Never shut down, like `HTTPClient.shared`.
    public static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        // A short connect timeout: the client retries a refused connection until it expires,
        // so with five attempts a dead endpoint is reported in seconds, not minutes.
        configuration.timeout = .init(connect: .seconds(3), read: .seconds(60))
        configuration.redirectConfiguration = .disallow
        // Many uploads run at once; each holds a connection (reads have their own, StreamedReadConnections).
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    static let targetHeader = "x-amz-meta-kura-target"
    static let sizeHeader = "x-amz-meta-kura-size"
    static let hiddenRoot = ".kura/objects/"

    public let configuration: S3Configuration
    /// Requests sent to the bucket so far, by operation.
    public let requestStatistics = S3RequestStatistics()
    let client: S3Client
    private let markers: MarkerCache

    public var name: String { "s3" }
    public var minimumPartSize: Int { Self.minimumPartSize }
    public var preferredPartSize: Int { configuration.partSize }

    public init(configuration: S3Configuration, httpClient: HTTPClient = S3Backend.sharedHTTPClient) {
        self.configuration = configuration
        self.client = S3Client(configuration: configuration, http: httpClient, statistics: requestStatistics)
        self.markers = MarkerCache(capacity: configuration.markerCacheCapacity)
    }

    private func physical(_ key: String) -> String { configuration.keyPrefix + key }

    // MARK: bucket

    /// Creates the bucket (`PUT /bucket`); an existing bucket of ours is fine.
    public func createBucket() async throws {
        let call = S3Client.Call(method: .PUT, key: nil)
        do {
            _ = try await client.perform("CreateBucket", call)
        } catch StorageError.backend(let message) where message.contains("BucketAlreadyOwnedByYou") {
        }
    }

    /// Checks that the bucket exists and the credentials are accepted (a `HEAD` of the
    /// bucket); throws a clear error otherwise. Meant for start-up.
    public func checkAccess() async throws {
        let response = try await client.perform("HeadBucket", S3Client.Call(method: .HEAD, key: nil), accept: [403, 404])
        switch response.status {
        case 403:
            throw StorageError.backend(
                "S3 bucket \(configuration.bucket) at \(configuration.endpoint): access denied (check the access key and secret)")
        case 404: throw StorageError.backend("S3 bucket \(configuration.bucket) at \(configuration.endpoint) does not exist")
        default: return
        }
    }

    // MARK: whole objects

    /// Sends bodies up to ``S3Configuration/singlePutLimit`` in one signed request and larger
    /// ones as a multipart upload of ``S3Configuration/partSize`` parts, so at most one part
    /// is held in memory. The object appears only when complete.
    public func put<Body: AsyncSequence & Sendable>(_ key: ObjectKey, body: Body) async throws -> Int64
    where Body.Element == ByteBuffer {
        let path = physical(key.value)
        var buffer = ByteBuffer()
        var upload: (id: String, parts: [(Int, String)])? = nil
        var total: Int64 = 0
        do {
            for try await chunk in body {
                buffer.writeImmutableBuffer(chunk)
                total += Int64(chunk.readableBytes)
                // Past the single-PUT limit the object goes multipart; parts leave only once a
                // whole part is buffered (the limit may be below the part size).
                if upload == nil, buffer.readableBytes > configuration.singlePutLimit {
                    upload = (try await createMultipart(path), [])
                }
                while let current = upload, buffer.readableBytes >= configuration.partSize,
                    let part = buffer.readSlice(length: configuration.partSize)
                {
                    let number = current.parts.count + 1
                    let etag = try await uploadPart(path, uploadID: current.id, number: number, data: part)
                    upload?.parts.append((number, etag))
                    buffer.discardReadBytes()
                }
            }
            if let current = upload {
                var parts = current.parts
                if buffer.readableBytes > 0 || parts.isEmpty {
                    let number = parts.count + 1
                    parts.append((number, try await uploadPart(path, uploadID: current.id, number: number, data: buffer)))
                }
                try await completeMultipart(path, uploadID: current.id, parts: parts)
            } else {
                let call = S3Client.Call(method: .PUT, key: path)
                _ = try await client.perform("PutObject", call, payload: .signed(buffer), timeout: configuration.transferTimeout)
            }
        } catch {
            if let upload { try? await abortMultipart(path, uploadID: upload.id) }
            throw error
        }
        markers.remove(key.value)
        return total
    }

    public func get(_ key: ObjectKey, range: Range<Int64>?) async throws -> ObjectRead {
        if let range, range.isEmpty {
            guard let info = try await stat(key) else { throw StorageError.notFound(key) }
            throw StorageError.rangeNotSatisfiable(size: info.size)
        }
        if let marker = markers.get(key.value) {
            if let read = try await readTarget(marker, range: range) { return read }
            markers.remove(key.value)  // the target went away: resolve the marker again
        }
        var call = S3Client.Call(method: .GET, key: physical(key.value))
        if let range { call.headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")) }
        let response = try await client.openStream("GetObject \(key)", call, accept: [404, 416], readAhead: Self.readAheadBytes)
        switch response.status.code {
        case 404:
            throw StorageError.notFound(key)
        case 416:
            guard let head = try await head(key.value) else { throw StorageError.notFound(key) }
            if let marker = head.marker {
                markers.set(key.value, marker)
                guard let read = try await readTarget(marker, range: range) else { throw StorageError.notFound(key) }
                return read
            }
            throw StorageError.rangeNotSatisfiable(size: head.size)
        default:
            if let marker = Self.marker(in: response.headers) {
                // The marker's own body is a few bytes of JSON: read it, so the connection
                // goes back to the pool instead of being held while the target is read.
                _ = try? await response.stream.collect(upTo: 1 << 16)
                markers.set(key.value, marker)
                guard let read = try await readTarget(marker, range: range) else { throw StorageError.notFound(key) }
                return read
            }
            return try Self.objectRead(response, range: range, key: key.value)
        }
    }

    public func stat(_ key: ObjectKey) async throws -> ObjectInfo? {
        guard let head = try await head(key.value) else {
            markers.remove(key.value)
            return nil
        }
        if let marker = head.marker {
            markers.set(key.value, marker)
            return ObjectInfo(key: key, size: marker.size, modified: head.modified)
        }
        return ObjectInfo(key: key, size: head.size, modified: head.modified)
    }

    public func delete(_ key: ObjectKey) async throws -> Bool {
        guard let head = try await head(key.value) else {
            markers.remove(key.value)
            return false
        }
        try await deleteObject(physical(key.value))
        markers.remove(key.value)
        if let marker = head.marker { try await deleteObject(physical(marker.target)) }
        return true
    }

    /// Lists with ListObjectsV2: `start-after` for the caller's position and continuation
    /// tokens within one call. A marker is listed with its own size (see the type's
    /// documentation); the hidden `.kura/` objects are skipped.
    public func list(prefix: String, startAfter: String?, limit: Int) async throws -> ObjectListing {
        guard limit > 0 else { return ObjectListing(objects: [], nextStartAfter: nil) }
        let keyPrefix = configuration.keyPrefix
        var objects: [ObjectInfo] = []
        var token: String? = nil
        var more = false
        repeat {
            var query: [(String, String)] = [("list-type", "2"), ("prefix", keyPrefix + prefix)]
            query.append(("max-keys", String(min(1000, limit - objects.count + 1))))
            if let token { query.append(("continuation-token", token)) }
            if let startAfter, token == nil { query.append(("start-after", keyPrefix + startAfter)) }
            let response = try await client.perform("ListObjectsV2", S3Client.Call(method: .GET, key: nil, query: query))
            let page = try S3ListResult(xml: S3Client.xml(response, operation: "ListObjectsV2"))
            for (index, entry) in page.entries.enumerated() {
                guard entry.key.hasPrefix(keyPrefix) else { continue }
                let name = String(entry.key.dropFirst(keyPrefix.count))
                guard let key = try? ObjectKey(name) else { continue }
                if let startAfter, !(startAfter.utf8.lexicographicallyPrecedes(name.utf8)) { continue }
                if objects.count == limit {
                    more = true
                    break
                }
                objects.append(ObjectInfo(key: key, size: entry.size, modified: Self.parseISODate(entry.modified)))
                if objects.count == limit && (index < page.entries.count - 1 || page.isTruncated) { more = true }
            }
            token = page.isTruncated ? page.nextContinuationToken : nil
            if objects.count == limit { break }
        } while token != nil
        return ObjectListing(objects: objects, nextStartAfter: more ? objects.last?.key.value : nil)
    }

    // MARK: append (multipart upload)

    /// Starts a multipart upload of a new hidden target object. The handle's `uploadID` is
    /// `<target uuid>/<S3 UploadId>`.
    public func beginAppend(_ key: ObjectKey) async throws -> AppendHandle {
        let target = UUID().uuidString.lowercased()
        let uploadID = try await createMultipart(physical(Self.hiddenRoot + target))
        return AppendHandle(key: key, uploadID: "\(target)/\(uploadID)")
    }

    public func appendPart(_ handle: AppendHandle, number: Int, offset: Int64, data: ByteBuffer) async throws -> AppendedPart {
        let (target, uploadID) = try Self.split(handle)
        let etag = try await uploadPart(physical(target), uploadID: uploadID, number: number, data: data)
        return AppendedPart(number: number, offset: offset, size: Int64(data.readableBytes), etag: etag)
    }

    /// Nothing to do: S3 acknowledges a part only once it is durable.
    public func syncAppend(_ handle: AppendHandle) async throws {}

    public func completeAppend(_ handle: AppendHandle, parts: [AppendedPart], size: Int64) async throws {
        let (target, uploadID) = try Self.split(handle)
        let path = physical(target)
        if parts.isEmpty {
            // S3 refuses an upload without parts: an empty object is written directly.
            guard size == 0 else { throw StorageError.corruptState("\(handle.key): no parts for \(size) bytes") }
            try await abortMultipart(path, uploadID: uploadID, missingIsError: true)
            _ = try await client.perform("PutObject", S3Client.Call(method: .PUT, key: path), payload: .signed(ByteBuffer()))
        } else {
            let sum = parts.reduce(Int64(0)) { $0 + $1.size }
            guard sum == size else { throw StorageError.corruptState("\(handle.key): parts hold \(sum) bytes, expected \(size)") }
            try await completeMultipart(path, uploadID: uploadID, parts: parts.map { ($0.number, $0.etag) })
        }
        try await writeMarker(at: handle.key.value, Marker(target: target, size: size))
    }

    public func abortAppend(_ handle: AppendHandle) async throws {
        let (target, uploadID) = try Self.split(handle)
        try await abortMultipart(physical(target), uploadID: uploadID)
    }

    /// The parts S3 holds for an unfinished append (ListParts, all pages).
    public func listParts(_ handle: AppendHandle) async throws -> [S3PartListing.Part] {
        let (target, uploadID) = try Self.split(handle)
        var result: [S3PartListing.Part] = []
        var marker: String? = nil
        repeat {
            var query = [("uploadId", uploadID)]
            if let marker { query.append(("part-number-marker", marker)) }
            let response = try await client.perform(
                "ListParts", S3Client.Call(method: .GET, key: physical(target), query: query), accept: [404])
            if response.status == 404 { throw StorageError.notFound(handle.key) }
            let page = try S3PartListing(xml: S3Client.xml(response, operation: "ListParts"))
            result += page.parts
            marker = page.isTruncated ? page.nextMarker : nil
        } while marker != nil
        return result
    }

    /// Publishes without copying: see the type's documentation.
    public func publish(_ staged: ObjectKey, to key: ObjectKey) async throws -> PublishOutcome {
        if try await head(key.value) != nil {
            _ = try await delete(staged)
            return .alreadyExisted
        }
        guard let head = try await head(staged.value) else { throw StorageError.notFound(staged) }
        if let marker = head.marker {
            try await writeMarker(at: key.value, marker)
            try await deleteObject(physical(staged.value))
            markers.remove(staged.value)
        } else {
            // Not assembled by an append: S3 can only copy (inside the object store).
            let source = "/\(configuration.bucket)/\(physical(staged.value))"
            let call = S3Client.Call(
                method: .PUT, key: physical(key.value), headers: [("x-amz-copy-source", S3Signer.encodePath(source))])
            let response = try await client.perform("CopyObject", call, timeout: configuration.transferTimeout)
            _ = try S3Client.xml(response, operation: "CopyObject")
            try await deleteObject(physical(staged.value))
        }
        return .created
    }

    // MARK: presigned URLs

    /// A URL that lets anyone holding it `GET` the bytes of `key` for `expires` (at most
    /// seven days), e.g. to redirect a pull. A marker is resolved first, so the URL names
    /// the object holding the bytes.
    public func presignedURL(for key: ObjectKey, expires: Duration, date: Date = Date()) async throws -> URL {
        var path = physical(key.value)
        if let marker = try await resolveMarker(key) { path = physical(marker.target) }
        return presignedURL(physicalKey: path, expires: expires, date: date)
    }

    public func directReadURL(for key: ObjectKey, expires: Duration) async throws -> URL? {
        try await presignedURL(for: key, expires: expires)
    }

    /// A presigned GET of a physical key, without looking anything up.
    func presignedURL(physicalKey: String, expires: Duration, date: Date) -> URL {
        let seconds = Int(min(max(expires.components.seconds, 1), 604_800))
        let query = client.signer.presignedQuery(
            method: "GET", encodedPath: client.encodedPath(physicalKey), host: client.host, expires: seconds, date: date)
        let scheme = configuration.endpoint.scheme ?? "http"
        return URL(string: "\(scheme)://\(client.host)\(client.encodedPath(physicalKey))?\(query)")!
    }

    // MARK: markers

    struct Marker: Sendable, Hashable {
        /// The hidden key (relative to the key prefix) of the object holding the bytes.
        var target: String
        var size: Int64
    }

    struct Head {
        var size: Int64
        var modified: Date
        var marker: Marker?
    }

    func head(_ key: String) async throws -> Head? {
        let response = try await client.perform("HeadObject", S3Client.Call(method: .HEAD, key: physical(key)), accept: [404])
        guard response.status != 404 else { return nil }
        let size = response.headers.first(name: "content-length").flatMap { Int64($0) } ?? 0
        return Head(size: size, modified: Self.parseHTTPDate(response.headers.first(name: "last-modified")),
            marker: Self.marker(in: response.headers))
    }

    /// The marker stored at `key`, from the cache or a HEAD.
    func resolveMarker(_ key: ObjectKey) async throws -> Marker? {
        if let marker = markers.get(key.value) { return marker }
        guard let marker = try await head(key.value)?.marker else { return nil }
        markers.set(key.value, marker)
        return marker
    }

    private static func marker(in headers: HTTPHeaders) -> Marker? {
        guard let target = headers.first(name: targetHeader), target.hasPrefix(hiddenRoot),
            let size = headers.first(name: sizeHeader).flatMap({ Int64($0) })
        else { return nil }
        return Marker(target: target, size: size)
    }

    private func writeMarker(at key: String, _ marker: Marker) async throws {
        let json = #"{"kuraMarker":1,"target":"\#(marker.target)","size":\#(marker.size)}"#
        let call = S3Client.Call(
            method: .PUT, key: physical(key),
            headers: [
                ("content-type", "application/vnd.kura.marker+json"), (Self.targetHeader, marker.target),
                (Self.sizeHeader, String(marker.size)),
            ])
        _ = try await client.perform("PutObject(marker)", call, payload: .signed(ByteBuffer(string: json)))
        markers.set(key, marker)
    }

    /// Reads a marker's target, or `nil` if the target is gone.
    private func readTarget(_ marker: Marker, range: Range<Int64>?) async throws -> ObjectRead? {
        if let range, range.lowerBound < 0 || range.upperBound > marker.size || range.isEmpty {
            throw StorageError.rangeNotSatisfiable(size: marker.size)
        }
        var call = S3Client.Call(method: .GET, key: physical(marker.target))
        if let range { call.headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")) }
        let response = try await client.openStream(
            "GetObject \(marker.target)", call, accept: [404, 416], readAhead: Self.readAheadBytes)
        switch response.status.code {
        case 404: return nil
        case 416: throw StorageError.rangeNotSatisfiable(size: marker.size)
        default: return try Self.objectRead(response, range: range, key: marker.target)
        }
    }

    /// Wraps a GET response as an ``ObjectRead``, checking the range against the object's
    /// size and counting the bytes so that a cut-off body fails instead of ending early.
    private static func objectRead(_ response: StreamedResponse, range: Range<Int64>?, key: String) throws -> ObjectRead {
        let length = response.headers.first(name: "content-length").flatMap { Int64($0) }
        var size: Int64
        if response.status.code == 206, let contentRange = response.headers.first(name: "content-range"),
            let total = contentRange.split(separator: "/").last.flatMap({ Int64($0) })
        {
            size = total
        } else {
            size = length ?? 0
        }
        let effective: Range<Int64>
        if let range {
            guard range.lowerBound >= 0, range.upperBound <= size else { throw StorageError.rangeNotSatisfiable(size: size) }
            if response.status.code == 200 {
                // The server ignored the Range header: skip to the range ourselves.
                size = length ?? size
            }
            effective = range
        } else {
            effective = 0..<size
        }
        let expected = effective.count
        let skip = (range != nil && response.status.code == 200) ? effective.lowerBound : 0
        let reader = ResponseReader(response, skip: skip, expected: Int64(expected), key: key)
        return ObjectRead(size: size, range: effective, body: ObjectBody(unfolding: { try await reader.next() }))
    }

    // MARK: multipart primitives

    private func createMultipart(_ path: String) async throws -> String {
        let response = try await client.perform(
            "CreateMultipartUpload", S3Client.Call(method: .POST, key: path, query: [("uploads", "")]))
        guard let id = try S3Client.xml(response, operation: "CreateMultipartUpload").value("UploadId"), !id.isEmpty else {
            throw StorageError.backend("S3 CreateMultipartUpload: no UploadId")
        }
        return id
    }

    private func uploadPart(_ path: String, uploadID: String, number: Int, data: ByteBuffer) async throws -> String {
        let call = S3Client.Call(method: .PUT, key: path, query: [("partNumber", String(number)), ("uploadId", uploadID)])
        let response = try await client.perform(
            "UploadPart", call, payload: .unsigned(data), accept: [404], timeout: configuration.transferTimeout)
        if response.status == 404 { throw StorageError.backend("S3 UploadPart \(path): no such upload \(uploadID)") }
        return response.headers.first(name: "etag") ?? ""
    }

    private func completeMultipart(_ path: String, uploadID: String, parts: [(Int, String)]) async throws {
        var xml = "<CompleteMultipartUpload>"
        for (number, etag) in parts {
            xml += "<Part><PartNumber>\(number)</PartNumber><ETag>\(S3XMLElement.escape(etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let call = S3Client.Call(method: .POST, key: path, query: [("uploadId", uploadID)])
        let response = try await client.perform(
            "CompleteMultipartUpload", call, payload: .signed(ByteBuffer(string: xml)), timeout: configuration.transferTimeout)
        _ = try S3Client.xml(response, operation: "CompleteMultipartUpload")
    }

    private func abortMultipart(_ path: String, uploadID: String, missingIsError: Bool = false) async throws {
        let call = S3Client.Call(method: .DELETE, key: path, query: [("uploadId", uploadID)])
        let response = try await client.perform("AbortMultipartUpload", call, accept: [404])
        if response.status == 404 && missingIsError { throw StorageError.backend("S3: no such upload \(uploadID)") }
    }

    private func deleteObject(_ path: String) async throws {
        _ = try await client.perform("DeleteObject", S3Client.Call(method: .DELETE, key: path), accept: [404])
    }

    private static func split(_ handle: AppendHandle) throws(StorageError) -> (target: String, uploadID: String) {
        guard let slash = handle.uploadID.firstIndex(of: "/") else {
            throw .corruptState("S3 append handle without a target: \(handle.uploadID)")
        }
        let target = String(handle.uploadID[..<slash])
        guard UUID(uuidString: target) != nil else { throw .corruptState("S3 append handle target \(target)") }
        return (hiddenRoot + target, String(handle.uploadID[handle.uploadID.index(after: slash)...]))
    }

    // MARK: dates

    static func parseISODate(_ string: String) -> Date {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(string) { return date }
        return (try? Date.ISO8601FormatStyle().parse(string)) ?? Date(timeIntervalSince1970: 0)
    }

    static func parseHTTPDate(_ string: String?) -> Date {
        guard let string else { return Date(timeIntervalSince1970: 0) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: string) ?? Date(timeIntervalSince1970: 0)
    }
}

/// Pulls a response body for an ``ObjectBody``, one buffer per call (so a reader that stops
/// pulling stops the transfer once the read-ahead is full), skipping `skip` leading bytes and
/// failing if the body ends before `expected` bytes.
final class ResponseReader: @unchecked Sendable {
    // Only touched by `next()`, which the stream calls serially. Holding the response keeps
    // the request alive; letting go of it cancels the request.
    private let response: StreamedResponse
    private var skip: Int64
    private var remaining: Int64
    private let key: String

    init(_ response: StreamedResponse, skip: Int64, expected: Int64, key: String) {
        self.response = response
        self.skip = skip
        self.remaining = expected
        self.key = key
    }

    func next() async throws -> ByteBuffer? {
        while remaining > 0 {
            let chunk: ByteBuffer?
            do {
                chunk = try await response.stream.next()
            } catch {
                throw StorageError.unavailable("S3 GetObject \(key): the read broke off with \(remaining) bytes left: \(error)")
            }
            guard var buffer = chunk else {
                throw StorageError.unavailable("S3 GetObject \(key): the body ended \(remaining) bytes early")
            }
            if skip > 0 {
                let drop = Int(min(skip, Int64(buffer.readableBytes)))
                buffer.moveReaderIndex(forwardBy: drop)
                skip -= Int64(drop)
            }
            guard buffer.readableBytes > 0 else { continue }
            if Int64(buffer.readableBytes) > remaining { buffer = buffer.getSlice(at: buffer.readerIndex, length: Int(remaining))! }
            remaining -= Int64(buffer.readableBytes)
            return buffer
        }
        return nil
    }
}

/// A bounded marker → target map. The mappings never change, so the oldest entry is simply
/// dropped when the map is full.
final class MarkerCache: Sendable {
    private struct State {
        var entries: [String: S3Backend.Marker] = [:]
        var order: [String] = []
        var head = 0
    }
    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = capacity }

    func get(_ key: String) -> S3Backend.Marker? { state.withLock { $0.entries[key] } }

    func set(_ key: String, _ marker: S3Backend.Marker) {
        state.withLock { s in
            if s.entries.updateValue(marker, forKey: key) == nil { s.order.append(key) }
            while s.entries.count > capacity, s.head < s.order.count {
                s.entries[s.order[s.head]] = nil
                s.head += 1
            }
            if s.head > 1024 && s.head * 2 > s.order.count {
                s.order.removeFirst(s.head)
                s.head = 0
            }
        }
    }

    func remove(_ key: String) { _ = state.withLock { $0.entries.removeValue(forKey: key) } }

    var count: Int { state.withLock { $0.entries.count } }
}
