import KuraMirror
import Testing

/// A rule's schedule is bounded both ways: a huge interval would overflow the instants and
/// lease expiries the scheduler computes from it (an admin's request must not abort the
/// process).
@Suite struct ReplicationRuleValidationTests {
    func rule(interval: Int?) -> ReplicationRule {
        ReplicationRule(name: "nightly", direction: .pull, namespace: "team", remote: "http://127.0.0.1:9", intervalSeconds: interval)
    }

    @Test func intervalIsBoundedBothWays() {
        #expect(throws: MirrorError.self) { try rule(interval: 0).validate() }
        #expect(throws: MirrorError.self) { try rule(interval: Int.max).validate() }
        #expect(throws: MirrorError.self) { try rule(interval: ReplicationRule.maximumIntervalSeconds + 1).validate() }
        #expect(throws: Never.self) { try rule(interval: ReplicationRule.maximumIntervalSeconds).validate() }
        #expect(throws: Never.self) { try rule(interval: 3600).validate() }
        #expect(throws: Never.self) { try rule(interval: nil).validate() }
    }
}
