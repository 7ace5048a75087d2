#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Every connection is a file descriptor: `kura serve` raises its soft open-file limit to
/// the hard limit (many systems start processes at 1024), and warns when even that is low.
enum OpenFileLimit {
    static func raise(logger: Logger) {
        #if canImport(Glibc)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        if limit.rlim_cur < 4096 {
            logger.warning(
                "the open-file limit is low: each connection takes one; raise it (ulimit -n, LimitNOFILE=)",
                metadata: ["limit": "\(limit.rlim_cur)"])
        }
        #endif
    }
}
