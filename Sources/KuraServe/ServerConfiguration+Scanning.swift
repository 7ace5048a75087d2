import Foundation

extension ServerConfiguration {
    /// Image scanning inside the server: pushed images are queued and scanned in the
    /// background against the advisory database (`kura scan db import` fills it).
    public struct ScanSettings: Sendable, Hashable {
        /// Queue a scan of every pushed image manifest.
        public var onPush: Bool
        /// Scans running at once.
        public var concurrency: Int
        /// Scans that may wait; beyond it new ones are dropped (a manual scan catches up).
        public var queueCapacity: Int
        /// The advisory database file; empty for `advisories.sqlite` in the data folder.
        public var database: String

        public init(onPush: Bool = true, concurrency: Int = 1, queueCapacity: Int = 10_000, database: String = "") {
            self.onPush = onPush
            self.concurrency = concurrency
            self.queueCapacity = queueCapacity
            self.database = database
        }
    }

    /// The advisory database the server and `kura scan` use.
    public var advisoryDatabasePath: String {
        scan.database.isEmpty ? (dataDirectory as NSString).appendingPathComponent("advisories.sqlite") : scan.database
    }
}
