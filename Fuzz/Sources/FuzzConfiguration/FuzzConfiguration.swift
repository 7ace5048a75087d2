import Foundation
import KuraServe

/// The YAML configuration file, as `kura serve --config FILE` reads it: every key decoded and
/// validated through swift-configuration. No input traps; a file is either a configuration or
/// refused with an error (naming the key, for a value that is wrong).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = NSTemporaryDirectory() + "kura-fuzz-configuration-\(getpid()).yaml"
    FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size))
    guard let configuration = try? ServerConfiguration(reading: .serve(file: path, environment: [:])) else { return 0 }
    precondition(!configuration.effectiveListeners.isEmpty, "a configuration without a listener")
    return 0
}
