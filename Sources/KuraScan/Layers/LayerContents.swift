/// What one layer's tar contributes to the image: the requested files it holds, and the
/// paths it removes from the layers below (whiteouts, opaque directories, and plain
/// replacement of a lower file by an entry not requested, e.g. a file turned into a directory).
struct LayerContents {
    var files: [String: ImageFile] = [:]
    var whiteouts: [String] = []
    var opaqueDirectories: [String] = []
    var replaced: [String] = []
    var entryCount = 0
}

/// The OCI whiteout conventions (image-spec, layer.md).
enum Whiteout {
    static let prefix = ".wh."
    static let opaqueMarker = ".wh..wh..opq"

    /// What an entry at `path` whites out, if it is a whiteout.
    enum Effect: Equatable {
        case remove(String)
        case opaque(directory: String)
    }

    static func effect(of path: String) -> Effect? {
        let slash = path.lastIndex(of: "/")
        let name = slash.map { path[path.index(after: $0)...] } ?? path[...]
        guard name.hasPrefix(prefix) else { return nil }
        let parent = slash.map { String(path[..<$0]) } ?? ""
        if name == opaqueMarker { return .opaque(directory: parent) }
        let removed = String(name.dropFirst(prefix.count))
        return .remove(parent.isEmpty ? removed : parent + "/" + removed)
    }
}
