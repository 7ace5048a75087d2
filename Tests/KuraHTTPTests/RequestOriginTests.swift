import KuraCore
import KuraServerTestSupport
import Testing

@testable import KuraHTTP

@Suite("RequestOrigin")
struct RequestOriginTests {
    @Test
    func forwardedForSkipsTrustedHopsFromTheRight() throws {
        let trusted = [try NetworkRange(parsing: "10.0.0.0/8")]
        func client(_ header: String) -> String? { RequestOrigin.clientAddress(forwardedFor: header, trusted: trusted) }
        #expect(client("203.0.113.5, 10.1.1.1, 10.2.2.2") == "203.0.113.5")
        // A client-supplied entry further left is not believed.
        #expect(client("1.1.1.1, 203.0.113.5, 10.1.1.1") == "203.0.113.5")
        #expect(client("10.1.1.1") == "10.1.1.1", "only proxies: the last one seen")
        #expect(client("garbage") == nil)
        #expect(client("::ffff:203.0.113.9") == "203.0.113.9")
    }
}
