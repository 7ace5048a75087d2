#if canImport(Glibc)
import Glibc
#endif

/// Resource figures of this process.
enum ProcessStats {
    /// Peak resident set size in bytes (`getrusage`'s `ru_maxrss`, KiB on Linux).
    static var peakResidentBytes: Int64 {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int64(usage.ru_maxrss) * 1024
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}
