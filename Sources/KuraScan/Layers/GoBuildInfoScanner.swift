/// Finds the build information the Go linker embeds in executables (Go 1.18 and later
/// write it inline after a 32-byte header starting "\xff Go buildinf:"), while the file's
/// bytes stream past. Holds a few bytes of overlap while searching and at most
/// ``maximumCapture`` bytes once the header is found.
struct GoBuildInfoScanner {
    static let magic: [UInt8] = [0xFF] + Array(" Go buildinf:".utf8)
    static let maximumCapture = 4 << 20
    private static let elfMagic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]

    private enum State {
        case checkingFormat
        case searching
        case capturing
        case done
    }

    private var state = State.checkingFormat
    private var pending: [UInt8] = []
    private var capture: [UInt8] = []
    private(set) var buildInfo: GoBuildInfo?

    mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        var input = bytes[...]
        while !input.isEmpty {
            switch state {
            case .done:
                return
            case .checkingFormat:
                let take = min(4 - pending.count, input.count)
                pending.append(contentsOf: input.prefix(take))
                input = input.dropFirst(take)
                if pending.count == 4 {
                    // Only ELF executables: scripts and other formats are not searched.
                    state = pending == Self.elfMagic ? .searching : .done
                    pending = []
                }
            case .searching:
                search(&input)
            case .capturing:
                let take = min(Self.maximumCapture - capture.count, input.count)
                capture.append(contentsOf: input.prefix(take))
                input = input.dropFirst(take)
                tryParse(final: capture.count >= Self.maximumCapture)
            }
        }
    }

    /// Looks for the magic in `input`, and across the boundary with the bytes held over
    /// from the previous chunk.
    private mutating func search(_ input: inout Slice<UnsafeRawBufferPointer>) {
        let overlap = Self.magic.count - 1
        var found: Int?
        if !pending.isEmpty, let start = Self.find(in: pending + input.prefix(overlap)), start < pending.count {
            capture = Array(pending[start...])
            found = input.startIndex
        } else if let start = Self.find(in: input) {
            capture = []
            found = start
        }
        guard let found else {
            pending = Array(input.suffix(overlap))
            input = input[input.endIndex...]
            return
        }
        pending = []
        let take = min(Self.maximumCapture - capture.count, input.endIndex - found)
        capture.append(contentsOf: input[found..<(found + take)])
        input = input[input.endIndex...]
        state = .capturing
        tryParse(final: capture.count >= Self.maximumCapture)
    }

    private static func find<C: Collection<UInt8>>(in bytes: C) -> Int? where C.Index == Int {
        var index = bytes.startIndex
        while let candidate = bytes[index...].firstIndex(of: 0xFF) {
            if bytes[candidate...].starts(with: magic) { return candidate }
            index = candidate + 1
        }
        return nil
    }

    /// Called with the bytes at the end of the file, so a short capture is still parsed.
    mutating func finish() {
        if state == .capturing { tryParse(final: true) }
    }

    private mutating func tryParse(final: Bool) {
        switch GoBuildInfo.parse(capture) {
        case .complete(let info):
            buildInfo = info
            state = .done
            capture = []
        case .needMore where !final:
            break
        case .needMore, .invalid:
            state = .done
            capture = []
        }
    }
}
