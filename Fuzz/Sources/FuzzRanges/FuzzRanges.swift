/// `Content-Range` of upload chunks and `Range` of blob GETs: no input traps, and what is
/// accepted is a sane range (start ≥ 0, length ≥ 1, inside the object for `Range`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // The first byte picks the object size for Range: small, ordinary, or at the edge.
    let sizes: [Int64] = [0, 1, 1000, Int64.max]
    let objectSize = sizes[Int(bytes.first ?? 0) % sizes.count]
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    if let range = HTTPRanges.uploadContentRange(text) {
        precondition(range.start >= 0 && range.length >= 1, "Content-Range \(text) gave \(range)")
    }
    if case .partial(let range) = HTTPRanges.request(text, size: objectSize) {
        precondition(range.lowerBound >= 0 && range.upperBound <= objectSize && !range.isEmpty, "Range \(text) gave \(range)")
    }
    return 0
}
