/// The scopes of a token request (`repository:<name>:<actions>`, several to a parameter):
/// no input traps, and an accepted scope prints back to what was parsed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for piece in text.split(separator: " ") {
        guard let scope = AccessScope(parsing: String(piece)) else { continue }
        precondition(!scope.type.isEmpty && !scope.name.isEmpty)
        _ = scope.actions.compactMap(RegistryAction.init(rawValue:))
        _ = scope.description
    }
    return 0
}
