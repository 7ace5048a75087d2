// swift-tools-version: 6.1
// Benchmarks for Kura, kept in their own package so the main build and CI do not build the
// benchmark framework. Run from this folder: `swift package benchmark` (release build).
import PackageDescription

let package = Package(
    name: "KuraBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Kura", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "StorageBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "KuraCore", package: "Kura"),
                .product(name: "KuraStorage", package: "Kura"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/StorageBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
