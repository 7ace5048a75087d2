extension ServerConfiguration {
    /// Usage metering: counted in memory, written to the catalog every `flushIntervalSeconds`
    /// and at shutdown. The storage gauges (a catalog scan) refresh every
    /// `gaugeIntervalSeconds`.
    public struct UsageSettings: Sendable, Hashable {
        public var enabled: Bool
        public var flushIntervalSeconds: Int
        public var gaugeIntervalSeconds: Int

        public init(enabled: Bool = true, flushIntervalSeconds: Int = 5, gaugeIntervalSeconds: Int = 60) {
            self.enabled = enabled
            self.flushIntervalSeconds = flushIntervalSeconds
            self.gaugeIntervalSeconds = gaugeIntervalSeconds
        }
    }

    /// Requests per minute allowed per access key and per source address on the `/v2/` API;
    /// 0 turns a limit off. Over the limit: 429 `TOOMANYREQUESTS` with `Retry-After`.
    public struct RequestRateSettings: Sendable, Hashable {
        public var perKeyPerMinute: Int
        public var perAddressPerMinute: Int

        public init(perKeyPerMinute: Int = 0, perAddressPerMinute: Int = 0) {
            self.perKeyPerMinute = perKeyPerMinute
            self.perAddressPerMinute = perAddressPerMinute
        }
    }

    /// Access logs as JSON lines: request id, account, access key id, method, route, status,
    /// bytes in and out, duration, remote address.
    public struct AccessLogSettings: Sendable, Hashable {
        public var enabled: Bool
        /// A file to append to; `nil` for standard output.
        public var path: String?

        public init(enabled: Bool = false, path: String? = nil) {
            self.enabled = enabled
            self.path = path
        }
    }

    /// Webhook delivery (webhooks themselves are configured per namespace through the admin
    /// API): attempts per event, the first retry's delay (doubling after), the timeout of
    /// one attempt, and how many events may wait.
    public struct WebhookSettings: Sendable, Hashable {
        public var enabled: Bool
        public var maxAttempts: Int
        public var initialBackoffMilliseconds: Int
        public var timeoutSeconds: Int
        public var queueCapacity: Int

        public init(enabled: Bool = true, maxAttempts: Int = 5, initialBackoffMilliseconds: Int = 1000, timeoutSeconds: Int = 10, queueCapacity: Int = 1000) {
            self.enabled = enabled
            self.maxAttempts = maxAttempts
            self.initialBackoffMilliseconds = initialBackoffMilliseconds
            self.timeoutSeconds = timeoutSeconds
            self.queueCapacity = queueCapacity
        }
    }
}
