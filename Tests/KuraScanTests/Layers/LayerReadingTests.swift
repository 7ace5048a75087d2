import Foundation
import KuraCore
import KuraScan
import Testing

/// Reading layers built by GNU tar, gzip and zstd and stored in a real blob store.
@Suite struct LayerReadingTests {
    /// Asks for everything under `etc/` and `app/`; nothing else is read.
    static let interest: @Sendable (TarEntry) -> FileInterest = { entry in
        entry.path.hasPrefix("etc/") || entry.path.hasPrefix("app/") ? .content : .none
    }

    func collect(_ image: TestImage, limits: LayerLimits = LayerLimits()) async throws -> (ImageFiles, ImageFileCollector.Statistics) {
        try await ImageFileCollector(limits: limits).collect(layers: image.layers, open: image.open, interest: Self.interest)
    }

    @Test(arguments: [LayerCompression.gzip, .zstd, .none])
    func readsRequestedFilesOnly(compression: LayerCompression) async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            let big = [UInt8](repeating: 0x41, count: 3 << 20)
            try await image.addLayer([
                "etc/hostname": .text("kura\n"),
                "app/config.json": .text("{\"a\": 1}"),
                "usr/share/big.bin": .bytes(big),
                "var/lib/other": .text("not asked for"),
            ], compression: compression)
            let (files, statistics) = try await collect(image)
            #expect(files["etc/hostname"]?.text == "kura\n")
            #expect(files["app/config.json"]?.text == "{\"a\": 1}")
            #expect(files["usr/share/big.bin"] == nil && files["var/lib/other"] == nil)
            #expect(files.files.count == 2)
            #expect(statistics.layers == 1)
            #expect(statistics.uncompressedBytes > Int64(big.count))
            if compression != .none { #expect(statistics.compressedBytes < statistics.uncompressedBytes) }
        }
    }

    @Test func chunkBoundariesDoNotMatter() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            // 7-byte chunks split every header, every gzip block and every file.
            let image = try TestImage(root: folder, readChunkSize: 7)
            let text = String(repeating: "line of text\n", count: 300)
            try await image.addLayer(["etc/a": .text(text), "etc/b": .text("b")], compression: .gzip)
            try await image.addLayer(["etc/c": .text(text)], compression: .zstd)
            let (files, _) = try await collect(image)
            #expect(files["etc/a"]?.text == text)
            #expect(files["etc/b"]?.text == "b")
            #expect(files["etc/c"]?.text == text)
        }
    }

    @Test func whiteoutsOpaqueDirectoriesAndReplacementsApplyAcrossLayers() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            try await image.addLayer([
                "app/keep": .text("keep"),
                "app/removed": .text("removed"),
                "app/gone/one": .text("1"),
                "app/gone/two": .text("2"),
                "app/opaque/old": .text("old"),
                "app/replaced": .text("lower"),
                "etc/motd": .text("lower"),
            ])
            try await image.addLayer([
                "app/removed": .whiteout,
                "app/gone": .whiteout,
                "app/opaque": .opaque,
                "app/opaque/new": .text("new"),
                "app/replaced": .text("upper"),
            ])
            // A lower file replaced by something not asked for (a directory) is hidden too.
            try await image.addLayer(["etc/motd/": .directory], compression: .zstd)
            let (files, _) = try await collect(image)
            #expect(Set(files.files.keys) == ["app/keep", "app/opaque/new", "app/replaced"])
            #expect(files["app/replaced"]?.text == "upper")
            #expect(files["app/replaced"]?.layerIndex == 1)
            #expect(files["app/keep"]?.layerIndex == 0)
        }
    }

    @Test func symbolicLinksAreRecordedAndResolved() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            try await image.addLayer(["etc/os-release": .symlink(to: "../app/os-release"), "app/os-release": .text("ID=debian\n")])
            let (files, _) = try await collect(image)
            #expect(files.resolving("etc/os-release")?.text == "ID=debian\n")
        }
    }

    // MARK: bad input

    /// Incompressible bytes, the same every run.
    func pseudoRandomBytes(_ count: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    func expectFailure(_ image: TestImage, limits: LayerLimits = LayerLimits(), layer: Int = 0, _ matches: (LayerReadError) -> Bool) async throws {
        do {
            _ = try await collect(image, limits: limits)
            Issue.record("the scan of a bad layer succeeded")
        } catch let failure as ImageFileCollector.LayerFailure {
            #expect(failure.layerIndex == layer)
            #expect(failure.digest == image.layers[layer])
            #expect(matches(failure.reason), "\(failure.reason)")
        }
    }

    @Test func aLayerThatIsNotATarFails() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            try await image.addLayer(["etc/ok": .text("fine")])
            try await image.addBlob(Array("this is a text file, not an archive\n".utf8) + [UInt8](repeating: 0x2A, count: 2000))
            try await expectFailure(image, layer: 1) { if case .notATar = $0 { true } else { false } }

            let empty = try TestImage(root: folder.appendingPathComponent("empty"))
            try await empty.addBlob([])
            try await expectFailure(empty) { if case .notATar = $0 { true } else { false } }

            // gzip of something that is not a tar.
            let gzipped = try TestImage(root: folder.appendingPathComponent("gz"))
            let junk = folder.appendingPathComponent("junk")
            try Data(repeating: 0x55, count: 4096).write(to: junk)
            try await run("/usr/bin/gzip", ["-k", junk.path])
            try await gzipped.addBlob(Array(try Data(contentsOf: folder.appendingPathComponent("junk.gz"))))
            try await expectFailure(gzipped) { if case .notATar = $0 { true } else { false } }
        }
    }

    @Test(arguments: [LayerCompression.gzip, .zstd])
    func aTruncatedCompressedLayerFails(compression: LayerCompression) async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            let random = pseudoRandomBytes(200_000)
            let whole = try await TestImage.pack(["etc/data": .bytes(random)], compression: compression, in: folder)
            try await image.addBlob(Array(whole.prefix(whole.count / 2)))
            try await expectFailure(image) { if case .truncatedCompression = $0 { true } else { false } }
        }
    }

    @Test func corruptGzipDataFails() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            let random = pseudoRandomBytes(200_000)
            var bytes = try await TestImage.pack(["etc/data": .bytes(random)], compression: .gzip, in: folder)
            for index in stride(from: bytes.count / 3, to: bytes.count / 3 + 64, by: 1) { bytes[index] ^= 0xA5 }
            try await image.addBlob(bytes)
            try await expectFailure(image) { reason in
                if case .corruptCompression = reason { return true }
                return false
            }
        }
    }

    @Test func aTruncatedTarFails() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            let whole = try await TestImage.pack(["etc/data": .bytes([UInt8](repeating: 1, count: 10_000))], compression: .none, in: folder)
            try await image.addBlob(Array(whole.prefix(3000)))
            try await expectFailure(image) { if case .truncatedTar = $0 { true } else { false } }
        }
    }

    @Test func deepPathsFail() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            // 300 nested directories, written by GNU tar with its long-name extension.
            let deep = (0..<300).map { _ in "d" }.joined(separator: "/") + "/file"
            try await image.addLayer([deep: .text("deep")])
            try await expectFailure(image) { if case .limitExceeded(let detail) = $0 { detail.contains("deep") } else { false } }
        }
    }

    @Test func hugePathsAndHugeHeadersFail() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let long = try TestImage(root: folder.appendingPathComponent("long"))
            let path = String(repeating: "a", count: 200) + "/" + String(repeating: "b/", count: 2000) + "f"
            try await long.addBlob(CraftedTar.paxEntry(records: [("path", path)], name: "f", content: Array("x".utf8)) + CraftedTar.end)
            try await expectFailure(long) { if case .limitExceeded(let detail) = $0 { detail.contains("path") } else { false } }

            // A PAX header declaring 100 MB: refused at its header, before any of it is read.
            let huge = try TestImage(root: folder.appendingPathComponent("huge"))
            try await huge.addBlob(CraftedTar.header(name: "PaxHeaders/x", type: "x", size: 100_000_000) + [UInt8](repeating: 0x31, count: 4096))
            try await expectFailure(huge) { if case .limitExceeded(let detail) = $0 { detail.contains("100000000") } else { false } }
        }
    }

    @Test(arguments: [["--format=gnu"], ["--format=pax"]])
    func aHugeDeclaredSparseEntryFails(format: [String]) async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            // A 10 GB sparse file: a few kilobytes of archive that would expand to 10 GB.
            let tree = folder.appendingPathComponent("sparse-tree")
            try FileManager.default.createDirectory(at: tree.appendingPathComponent("etc"), withIntermediateDirectories: true)
            try await run("/usr/bin/truncate", ["-s", "10G", tree.appendingPathComponent("etc/sparse").path])
            let archive = folder.appendingPathComponent("sparse.tar")
            try await run("/usr/bin/tar", ["--sparse"] + format + ["-C", tree.path, "-cf", archive.path, "."])
            let bytes = Array(try Data(contentsOf: archive))
            #expect(bytes.count < 1 << 20)
            try await image.addBlob(bytes)
            try await expectFailure(image) { if case .limitExceeded(let detail) = $0 { detail.contains("sparse") } else { false } }
        }
    }

    @Test func aDecompressionBombStopsAtTheLimit() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            try await image.addLayer(["etc/zeros": .bytes([UInt8](repeating: 0, count: 8 << 20))], compression: .gzip)
            var limits = LayerLimits()
            limits.maximumUncompressedSize = 1 << 20
            try await expectFailure(image, limits: limits) { if case .limitExceeded = $0 { true } else { false } }
        }
    }

    @Test func aFileLargerThanTheReadLimitIsNotHeld() async throws {
        try await Fixtures.withTemporaryFolder { folder in
            let image = try TestImage(root: folder)
            try await image.addLayer(["etc/large": .bytes([UInt8](repeating: 7, count: 2 << 20))])
            var limits = LayerLimits()
            limits.maximumFileSize = 1 << 20
            let (files, _) = try await collect(image, limits: limits)
            guard case .tooLarge(let size)? = files["etc/large"]?.content else {
                Issue.record("expected tooLarge, got \(String(describing: files["etc/large"]?.content))")
                return
            }
            #expect(size == 2 << 20)
        }
    }
}
