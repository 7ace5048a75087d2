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

    /// CPU time (user and system) this process has used so far, in seconds: what a
    /// benchmark client itself costs the machine it shares with the server.
    static var cpuSeconds: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}
