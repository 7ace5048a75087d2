extension ServerConfiguration {
    /// The web console's sessions (the console itself is the `dashboard` API of a listener).
    public struct ConsoleSettings: Sendable, Hashable {
        public var sessionIdleMinutes: Int
        public var sessionMaxHours: Int

        public init(sessionIdleMinutes: Int = 30, sessionMaxHours: Int = 12) {
            self.sessionIdleMinutes = sessionIdleMinutes
            self.sessionMaxHours = sessionMaxHours
        }
    }
}
