import KuraCore

/// Any string either fails to parse or yields a digest that prints and re-parses to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let digest = try? Digest(parsing: text) else { return 0 }
    guard let again = try? Digest(parsing: digest.description), again == digest else {
        fatalError("digest \(digest) does not survive printing and parsing")
    }
    return 0
}
