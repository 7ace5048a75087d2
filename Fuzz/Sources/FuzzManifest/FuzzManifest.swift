import KuraCore

/// Manifest parsing and validation, under each manifest Content-Type and none: no input
/// traps; an accepted manifest has a media type and only well-formed descriptors.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let types: [String?] = [nil] + MediaType.manifestTypes.sorted()
    let contentType = types[Int(bytes.first ?? 0) % types.count]
    guard let parsed = try? ManifestParser.parse(bytes.dropFirst(), contentType: contentType) else { return 0 }
    precondition(!parsed.mediaType.isEmpty)
    for descriptor in parsed.blobs + parsed.children {
        precondition(descriptor.size >= 0, "descriptor \(descriptor.digest) with size \(descriptor.size)")
    }
    _ = parsed.references
    return 0
}
