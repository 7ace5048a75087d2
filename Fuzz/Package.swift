// swift-tools-version: 6.1
// libFuzzer targets for Kura's parsers, in their own package so that the instrumented build
// (`-sanitize=fuzzer,address`) never mixes with the main one. Build and run them
// with scripts/fuzz. Each target compiles the parser's own source files (linked from
// ../Sources, so the fuzzed code is the shipped code) beside a driver that defines
// LLVMFuzzerTestOneInput; libFuzzer supplies main, hence -parse-as-library. scripts/fuzz builds
// with --disable-dead-strip: the linker's --gc-sections would drop the coverage counters.
import PackageDescription

let driver: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "KuraFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Kura", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
    ],
    targets: [
        .executableTarget(
            name: "FuzzDigest", dependencies: [.product(name: "KuraCore", package: "Kura")], path: "Sources/FuzzDigest",
            swiftSettings: driver),
        .executableTarget(
            name: "FuzzReference", dependencies: [.product(name: "KuraCore", package: "Kura")], path: "Sources/FuzzReference",
            swiftSettings: driver),
        .executableTarget(
            name: "FuzzRepositoryName", dependencies: [.product(name: "KuraCore", package: "Kura")],
            path: "Sources/FuzzRepositoryName", swiftSettings: driver),
        .executableTarget(name: "FuzzRanges", path: "Sources/FuzzRanges", swiftSettings: driver),
        .executableTarget(
            name: "FuzzManifest",
            dependencies: [.product(name: "KuraCore", package: "Kura"), .product(name: "KuraMetadata", package: "Kura")],
            path: "Sources/FuzzManifest",
            swiftSettings: driver),
        .executableTarget(name: "FuzzTokenRequest", path: "Sources/FuzzTokenRequest", swiftSettings: driver),
        .executableTarget(
            name: "FuzzTokenVerify", dependencies: [.product(name: "JWTKit", package: "jwt-kit")], path: "Sources/FuzzTokenVerify",
            swiftSettings: driver),
        .executableTarget(
            name: "FuzzLayer",
            dependencies: [
                .product(name: "KuraScan", package: "Kura"), .product(name: "KuraCore", package: "Kura"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/FuzzLayer", swiftSettings: driver),
        .executableTarget(
            name: "FuzzConfiguration", dependencies: [.product(name: "KuraServe", package: "Kura")],
            path: "Sources/FuzzConfiguration", swiftSettings: driver),
        .executableTarget(
            name: "FuzzVersions", dependencies: [.product(name: "KuraScan", package: "Kura")], path: "Sources/FuzzVersions",
            swiftSettings: driver),
    ]
)
