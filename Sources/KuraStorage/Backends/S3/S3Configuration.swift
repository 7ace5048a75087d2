public import Foundation

/// Where and how ``S3Backend`` reaches its bucket.
public struct S3Configuration: Sendable {
    /// How the bucket appears in request URLs.
    public enum Addressing: String, Sendable, Codable {
        /// `http://endpoint/bucket/key`: what S3-compatible servers (SeaweedFS, MinIO) expect.
        case path
        /// `http://bucket.endpoint/key`: AWS's default.
        case virtualHost
    }

    /// Scheme, host and port, e.g. `http://127.0.0.1:8333` or `https://s3.eu-west-1.amazonaws.com`.
    public var endpoint: URL
    public var region: String
    public var bucket: String
    public var addressing: Addressing
    public var credentials: S3Credentials
    /// A folder inside the bucket under which every key lives (`""` for the whole bucket).
    /// Normalised to end with `/` when not empty.
    public var keyPrefix: String
    /// Attempts per request, the first included, before giving up with
    /// ``StorageError/unavailable(_:)``.
    public var maxAttempts: Int
    /// The first backoff delay; each retry doubles it (with full jitter) up to `maxBackoff`.
    public var baseBackoff: Duration
    public var maxBackoff: Duration
    /// Deadline of a request without a large body (HEAD, DELETE, list, small PUT, multipart
    /// control calls).
    public var requestTimeout: Duration
    /// Deadline of a request that carries or returns a part or a streamed object.
    public var transferTimeout: Duration
    /// `put` bodies up to this size are sent in one request; larger ones as a multipart upload.
    public var singlePutLimit: Int
    /// The part size of multipart `put`s and of blob uploads (S3's minimum is 5 MiB).
    public var partSize: Int
    /// How many marker → target mappings ``S3Backend`` remembers.
    public var markerCacheCapacity: Int

    public init(
        endpoint: URL, region: String = "us-east-1", bucket: String, addressing: Addressing = .path,
        credentials: S3Credentials, keyPrefix: String = "", maxAttempts: Int = 5,
        baseBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(2),
        requestTimeout: Duration = .seconds(30), transferTimeout: Duration = .seconds(600),
        singlePutLimit: Int = 8 << 20, partSize: Int = 8 << 20, markerCacheCapacity: Int = 100_000
    ) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.addressing = addressing
        self.credentials = credentials
        self.keyPrefix = keyPrefix.isEmpty || keyPrefix.hasSuffix("/") ? keyPrefix : keyPrefix + "/"
        self.maxAttempts = max(1, maxAttempts)
        self.baseBackoff = baseBackoff
        self.maxBackoff = maxBackoff
        self.requestTimeout = requestTimeout
        self.transferTimeout = transferTimeout
        self.singlePutLimit = max(0, singlePutLimit)
        self.partSize = max(S3Backend.minimumPartSize, partSize)
        self.markerCacheCapacity = max(1, markerCacheCapacity)
    }

    /// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`,
    /// or `nil` when the first two are not both set.
    public static func credentials(from environment: [String: String] = ProcessInfo.processInfo.environment) -> S3Credentials? {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }

    /// A configuration whose credentials come from `credentials` when given, else from the
    /// `AWS_*` environment variables, and whose region comes from `region`, else
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`), else `us-east-1`.
    public static func resolve(
        endpoint: URL, bucket: String, region: String? = nil, addressing: Addressing = .path,
        credentials: S3Credentials? = nil, keyPrefix: String = "",
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(StorageError) -> S3Configuration {
        guard let credentials = credentials ?? Self.credentials(from: environment) else {
            throw .backend("S3: no credentials (set an access key and secret, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
        }
        let region = region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        return S3Configuration(
            endpoint: endpoint, region: region, bucket: bucket, addressing: addressing, credentials: credentials,
            keyPrefix: keyPrefix)
    }
}
