import KuraCore

/// Repository names: a parsed name re-parses to itself, is within the length limit, and has
/// a first component (what namespaces are taken from).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let name = try? RepositoryName(parsing: text) else { return 0 }
    guard (try? RepositoryName(parsing: name.value)) == name, name.value.utf8.count <= RepositoryName.maximumLength else {
        fatalError("repository name \(name) does not survive printing and parsing")
    }
    _ = name.firstComponent
    return 0
}
