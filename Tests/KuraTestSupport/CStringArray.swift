#if canImport(Glibc)
import Glibc
#endif

/// NULL-terminated arrays of NUL-terminated C strings (an `argv` or `envp`) owned by the
/// caller for exactly the duration of a closure: every string is copied once into memory of
/// its own, with its terminator, and all of it is freed when the closure returns. Nothing here
/// reads past what it allocated (Foundation's `Process` was seen to; see ``ChildProcess``).
enum CStringArray {
    /// A C array of `strings` (then NULL), valid only inside `body`. Throws if a string
    /// contains a NUL byte: C would silently cut it there.
    static func with<Result>(
        _ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws(ChildProcess.Failure) -> Result
    ) throws(ChildProcess.Failure) -> Result {
        for string in strings where string.utf8.contains(0) {
            throw ChildProcess.Failure("a NUL byte in \(string.debugDescription) would cut it short")
        }
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() {
            // utf8CString ends with the NUL terminator.
            let bytes = string.utf8CString
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
            bytes.withUnsafeBufferPointer { copy.initialize(from: $0.baseAddress!, count: bytes.count) }
            (array + index).initialize(to: copy)
        }
        (array + strings.count).initialize(to: nil)
        defer {
            for index in 0..<strings.count { array[index]?.deallocate() }
            array.deinitialize(count: strings.count + 1)
            array.deallocate()
        }
        return try body(array)
    }
}
