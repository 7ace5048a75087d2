// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Kura",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kura", targets: ["kura"]),
        .library(name: "KuraCore", targets: ["KuraCore"]),
        .library(name: "KuraStorage", targets: ["KuraStorage"]),
        .library(name: "KuraMetadata", targets: ["KuraMetadata"]),
        // For the fuzz targets in Fuzz/ (the layer reader and the version schemes).
        .library(name: "KuraScan", targets: ["KuraScan"]),
        // For the configuration fuzz target.
        .library(name: "KuraServe", targets: ["KuraServe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/JohnSundell/Ink.git", from: "0.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.29.0"),
    ],
    targets: [
        // System libraries (Debian: libssl-dev, liblz4-dev).
        .systemLibrary(name: "CKuraOpenSSL", path: "Sources/CKuraOpenSSL", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CKuraLZ4", path: "Sources/CKuraLZ4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CKuraSystem", path: "Sources/CKuraSystem"),
        // Layer decompression for the scanner (Debian: zlib1g-dev, libzstd-dev).
        .systemLibrary(name: "CKuraZlib", path: "Sources/CKuraZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CKuraZstd", path: "Sources/CKuraZstd", providers: [.apt(["libzstd-dev"])]),

        .target(name: "KuraCore", swiftSettings: strict),
        .target(
            name: "KuraStorage",
            dependencies: [
                "KuraCore", "CKuraOpenSSL", "CKuraLZ4", "CKuraSystem",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KuraMetadata",
            dependencies: [
                "KuraCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KuraRegistry",
            dependencies: [
                "KuraCore", "KuraStorage", "KuraMetadata",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KuraAccess",
            dependencies: [
                "KuraCore", "KuraMetadata", "KuraRegistry",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KuraMirror",
            dependencies: [
                "KuraCore", "KuraStorage", "KuraMetadata", "KuraRegistry", "KuraAccess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KuraScan",
            dependencies: [
                "KuraCore", "KuraStorage", "KuraMetadata", "KuraRegistry", "CKuraZlib", "CKuraZstd",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KuraHTTP",
            dependencies: [
                "KuraCore", "KuraStorage", "KuraMetadata", "KuraRegistry", "KuraAccess", "KuraMirror", "KuraScan",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            // The admin API's OpenAPI document, served at /api/v1/openapi.json (docs/ links to it).
            resources: [.embedInCode("Resources/openapi.json")],
            swiftSettings: strict
        ),
        // The web console: pages, templates, sessions, Markdown sanitising.
        .target(
            name: "KuraDashboard",
            dependencies: [
                "KuraCore", "KuraMetadata", "KuraRegistry", "KuraAccess", "KuraMirror", "KuraHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Ink", package: "Ink"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // Templates, stylesheet and script, compiled into the binary.
            resources: [
                .embedInCode("Resources/layout.mustache"),
                .embedInCode("Resources/error.mustache"),
                .embedInCode("Resources/sign-in.mustache"),
                .embedInCode("Resources/namespaces.mustache"),
                .embedInCode("Resources/namespace.mustache"),
                .embedInCode("Resources/repository.mustache"),
                .embedInCode("Resources/manifest.mustache"),
                .embedInCode("Resources/confirm-delete.mustache"),
                .embedInCode("Resources/accounts.mustache"),
                .embedInCode("Resources/account.mustache"),
                .embedInCode("Resources/audit.mustache"),
                .embedInCode("Resources/jobs.mustache"),
                .embedInCode("Resources/usage.mustache"),
                .embedInCode("Resources/namespace-settings.mustache"),
                .embedInCode("Resources/replication.mustache"),
                .embedInCode("Resources/console.css"), .embedInCode("Resources/console.js"),
            ],
            swiftSettings: strict
        ),
        // Configuration (one tree on swift-configuration) and the server wiring.
        .target(
            name: "KuraServe",
            dependencies: [
                "KuraCore", "KuraStorage", "KuraMetadata", "KuraRegistry", "KuraAccess", "KuraMirror", "KuraHTTP", "KuraDashboard", "KuraScan",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "kura",
            dependencies: [
                "KuraCore", "KuraStorage", "KuraMetadata", "KuraRegistry", "KuraAccess", "KuraMirror", "KuraHTTP", "KuraServe", "KuraScan",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),

        // Shared by the test targets: real servers the tests start (SeaweedFS).
        .target(
            name: "KuraTestSupport",
            dependencies: [
                "KuraStorage", "KuraRegistry", "KuraCore", "CKuraSpawn", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/KuraTestSupport",
            swiftSettings: strict
        ),
        // glibc's spawn extensions (addchdir_np, addclosefrom_np) and pipe2, which Swift's
        // Glibc module does not import, for KuraTestSupport's ChildProcess.
        .target(name: "CKuraSpawn", path: "Tests/CKuraSpawn"),
        .testTarget(name: "KuraTestSupportTests", dependencies: ["KuraTestSupport"], swiftSettings: strict),
        .testTarget(name: "KuraCoreTests", dependencies: ["KuraCore"], swiftSettings: strict),
        .testTarget(
            name: "KuraStorageTests",
            dependencies: [
                "KuraStorage", "KuraCore", "KuraTestSupport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KuraRegistryTests",
            dependencies: [
                "KuraRegistry", "KuraMetadata", "KuraStorage", "KuraCore", "KuraTestSupport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Shared by the route tests and the integration tests: servers in process or on a
        // socket, listeners, access keys, the metered server, a webhook receiver, the
        // OpenAPI document's schema check.
        .target(
            name: "KuraServerTestSupport",
            dependencies: [
                "KuraServe", "KuraHTTP", "KuraAccess", "KuraMirror", "KuraRegistry", "KuraStorage", "KuraCore", "KuraTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/KuraServerTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "KuraHTTPTests",
            dependencies: [
                "KuraHTTP", "KuraServe", "KuraAccess", "KuraMirror", "KuraRegistry", "KuraMetadata", "KuraStorage", "KuraCore", "KuraTestSupport", "KuraServerTestSupport",
                "KuraScan",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Tests through real processes, clients (skopeo, docker, podman, oras, trivy), S3
        // (SeaweedFS), PostgreSQL, TLS and listener sockets, and mirrors of live registries.
        .testTarget(
            name: "KuraIntegrationTests",
            dependencies: [
                "KuraHTTP", "KuraServe", "KuraAccess", "KuraMirror", "KuraRegistry", "KuraMetadata", "KuraStorage", "KuraCore", "KuraTestSupport", "KuraServerTestSupport",
                "KuraScan",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KuraAccessTests",
            dependencies: [
                "KuraAccess", "KuraRegistry", "KuraMetadata", "KuraStorage", "KuraCore", "KuraTestSupport",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KuraServeTests",
            dependencies: [
                "KuraServe", "KuraHTTP", "KuraCore",
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KuraMirrorTests",
            dependencies: [
                "KuraMirror", "KuraCore", "KuraStorage",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KuraScanTests",
            dependencies: [
                "KuraScan", "KuraRegistry", "KuraMetadata", "KuraCore", "KuraStorage", "KuraTestSupport",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KuraDashboardTests",
            dependencies: [
                "KuraDashboard", "KuraServe", "KuraHTTP", "KuraAccess", "KuraRegistry", "KuraMetadata", "KuraStorage", "KuraCore", "KuraTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KuraMetadataTests",
            dependencies: ["KuraMetadata", "KuraCore", "KuraTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
    ]
)
