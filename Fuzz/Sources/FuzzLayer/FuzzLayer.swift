import Dispatch
import KuraCore
import KuraScan
import NIOCore

/// One layer blob as the scanner streams it: compression sniffed (gzip, zstd, none), the tar
/// parsed (ustar, GNU long names, PAX, sparse headers), whiteouts applied, every detector run
/// on what was kept. The first byte picks the chunk size the layer arrives in (so chunk
/// boundaries fall everywhere) and, with its top bit, a second mode where the rest of the
/// input is the content of one package database (dpkg, apk, rpm, Python, npm, Go binary,
/// jar, os-release) wrapped in a valid tar, so the detectors' parsers see fuzzed content
/// without the fuzzer having to discover tar first. No input traps; a layer is either read
/// or refused with a ``ImageFileCollector/LayerFailure``, and never grows past the limits.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let selector = bytes.first else { return 0 }
    let chunk = 1 + Int(selector & 0x7F) * 7
    let layer = selector & 0x80 == 0 ? Array(bytes.dropFirst()) : wrappedInTar(Array(bytes.dropFirst()), selector: selector)
    let limits = {
        var limits = LayerLimits()
        limits.maximumUncompressedSize = 8 << 20
        limits.maximumFileSize = 1 << 20
        limits.maximumSparseSize = 1 << 20
        limits.maximumMetadataSize = 64 << 10
        return limits
    }()
    runBlocking {
        let digest = Digest(algorithm: .sha256, rawBytes: [UInt8](repeating: 0, count: 32))
        let detectors = PackageDetectors.all
        let osDetector = OperatingSystemDetector()
        do {
            let (files, statistics) = try await ImageFileCollector(limits: limits).collect(
                layers: [digest],
                open: { _ in
                    AsyncThrowingStream { continuation in
                        var offset = 0
                        while offset < layer.count {
                            let end = min(offset + chunk, layer.count)
                            continuation.yield(ByteBuffer(bytes: layer[offset..<end]))
                            offset = end
                        }
                        continuation.finish()
                    }
                },
                interest: { entry in detectors.reduce(osDetector.interest(in: entry)) { max($0, $1.interest(in: entry)) } })
            precondition(statistics.uncompressedBytes <= limits.maximumUncompressedSize)
            let os = osDetector.operatingSystem(in: files)
            for detector in detectors {
                for package in detector.packages(in: files, os: os) {
                    precondition(!package.name.isEmpty, "a package without a name")
                }
            }
        } catch is ImageFileCollector.LayerFailure {
            // refused with a reason: what a hostile layer should get
        } catch {
            preconditionFailure("a layer failed with an error that is not a LayerFailure: \(error)")
        }
    }
    return 0
}

/// Runs `body` to completion on the cooperative pool while the fuzzer's thread waits.
func runBlocking(_ body: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await body()
        done.signal()
    }
    done.wait()
}

/// The files detectors read, one per value of the selector's low bits.
let packageFiles = [
    "var/lib/dpkg/status", "var/lib/dpkg/status.d/base", "lib/apk/db/installed", "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/python3/dist-packages/pkg-1.0.dist-info/METADATA", "app/node_modules/pkg/package.json",
    "usr/local/bin/app", "app/lib/pkg-1.0.jar", "etc/os-release", "app/package-lock.json",
]

/// `content` as the one regular file of an uncompressed ustar archive.
func wrappedInTar(_ content: [UInt8], selector: UInt8) -> [UInt8] {
    let path = packageFiles[Int(selector & 0x7F) % packageFiles.count]
    var header = [UInt8](repeating: 0, count: 512)
    func put(_ text: String, at offset: Int) {
        for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
    }
    put(path, at: 0)
    put("0000644", at: 100)
    put("0000000", at: 108)
    put("0000000", at: 116)
    put(octal(content.count, width: 11), at: 124)
    put("00000000000", at: 136)
    header[156] = UInt8(ascii: "0")
    put("ustar", at: 257)
    put("00", at: 263)
    put("        ", at: 148)
    let checksum = header.reduce(0) { $0 + Int($1) }
    put(octal(checksum, width: 6), at: 148)
    header[154] = 0
    header[155] = UInt8(ascii: " ")
    let padding = (512 - content.count % 512) % 512
    return header + content + [UInt8](repeating: 0, count: padding + 1024)
}

/// `value` in octal, zero-padded to `width` digits, as tar headers write numbers.
func octal(_ value: Int, width: Int) -> String {
    let digits = String(value, radix: 8)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
