import Foundation
import KuraStorage

extension ServerConfiguration.StorageSettings: ConfigurationSection {
    public static var configurationKeys: [ConfigurationKey] {
        [
            .init("storage.backend", default: "filesystem", "Where blobs live: filesystem (the data folder) or s3."),
            .init("storage.s3.endpoint", default: nil, "S3 endpoint URL (backend s3)."),
            .init("storage.s3.bucket", default: nil, "S3 bucket (backend s3)."),
            .init("storage.s3.region", default: nil, "S3 region (unset: AWS_REGION, else us-east-1)."),
            .init("storage.s3.addressing", default: "path", "S3 addressing: path or virtual."),
            .init("storage.s3.accessKeyID", default: nil, "S3 access key id (unset: AWS_ACCESS_KEY_ID)."),
            .init("storage.s3.secretAccessKey", default: nil, "S3 secret key (unset: AWS_SECRET_ACCESS_KEY).", isSecret: true),
            .init("storage.s3.keyPrefix", default: "", "Prefix of every object key in the bucket."),
            .init("storage.cache.path", default: nil, "A bounded local cache folder in front of the backend."),
            .init("storage.cache.maxBytes", default: nil, "The cache's size bound in bytes (with storage.cache.path)."),
            .init("storage.keepWrites", default: "false", "Keep freshly pushed blobs in the cache too."),
            .init("storage.minimumFreeBytes", default: "\(ServerConfiguration.StorageSettings.defaultMinimumFreeBytes)",
                  "Below this many free bytes on the data disk, /readyz answers 503 (storage full)."),
            .init("storage.redirectPullsSeconds", default: nil, "Blob GETs redirect to a presigned URL valid this long (s3 only)."),
        ]
    }

    public init(reading settings: SettingsReader) throws {
        self.init()
        switch try settings.string("storage.backend") {
        case "filesystem":
            backend = .filesystem
        case "s3":
            backend = .s3(try Self.s3(settings))
        case let other:
            throw ConfigurationError(key: "storage.backend", "must be filesystem or s3, not \(other)")
        }
        let cachePath = try settings.text("storage.cache.path")
        let cacheBytes = try settings.optionalInt("storage.cache.maxBytes", in: 1...Int64.max, meaning: "positive")
        switch (cachePath, cacheBytes) {
        case (let path?, let maxBytes?): cache = (path, maxBytes)
        case (nil, nil): cache = nil
        case (nil, _): throw ConfigurationError(key: "storage.cache.path", "is required with storage.cache.maxBytes")
        case (_, nil): throw ConfigurationError(key: "storage.cache.maxBytes", "is required with storage.cache.path")
        }
        keepWrites = try settings.bool("storage.keepWrites")
        minimumFreeBytes = Int64(try settings.int("storage.minimumFreeBytes", in: 0...Int64.max, meaning: "0 or more"))
        if let seconds = try settings.optionalInt("storage.redirectPullsSeconds", in: 1...604_800, meaning: "between 1 and 604800 (7 days)") {
            guard case .s3 = backend else {
                throw ConfigurationError(key: "storage.redirectPullsSeconds", "needs the s3 backend (a filesystem has no URLs)")
            }
            redirectPullsSeconds = Int(seconds)
        }
    }

    private static func s3(_ settings: SettingsReader) throws -> S3Configuration {
        guard let endpointText = try settings.text("storage.s3.endpoint") else {
            throw ConfigurationError(key: "storage.s3.endpoint", "is required with storage.backend s3")
        }
        guard let endpoint = URL(string: endpointText), endpoint.scheme != nil, endpoint.host != nil else {
            throw ConfigurationError(key: "storage.s3.endpoint", "must be a URL, not \(endpointText)")
        }
        guard let bucket = try settings.text("storage.s3.bucket"), !bucket.isEmpty else {
            throw ConfigurationError(key: "storage.s3.bucket", "is required with storage.backend s3")
        }
        let addressing: S3Configuration.Addressing
        switch try settings.string("storage.s3.addressing") {
        case "path": addressing = .path
        case "virtual", "virtual-host", "virtualHost": addressing = .virtualHost
        case let other: throw ConfigurationError(key: "storage.s3.addressing", "must be path or virtual, not \(other)")
        }
        var credentials: S3Credentials?
        switch (try settings.text("storage.s3.accessKeyID"), try settings.text("storage.s3.secretAccessKey")) {
        case (let id?, let secret?): credentials = S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: nil)
        case (nil, nil): credentials = nil
        case (nil, _): throw ConfigurationError(key: "storage.s3.accessKeyID", "is required with storage.s3.secretAccessKey")
        case (_, nil): throw ConfigurationError(key: "storage.s3.secretAccessKey", "is required with storage.s3.accessKeyID")
        }
        do {
            return try S3Configuration.resolve(
                endpoint: endpoint, bucket: bucket, region: try settings.text("storage.s3.region"), addressing: addressing,
                credentials: credentials, keyPrefix: try settings.string("storage.s3.keyPrefix"), environment: settings.environment)
        } catch {
            throw ConfigurationError("storage.s3: \(error)")
        }
    }
}
