import KuraCore

/// References (tags and digests) and tags: parse, print, parse again to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let reference = try? Reference(parsing: text) {
        guard let again = try? Reference(parsing: reference.description), again == reference else {
            fatalError("reference \(reference) does not survive printing and parsing")
        }
    }
    if let tag = try? Tag(parsing: text), (try? Tag(parsing: tag.value)) != tag {
        fatalError("tag \(tag.value) does not survive printing and parsing")
    }
    return 0
}
