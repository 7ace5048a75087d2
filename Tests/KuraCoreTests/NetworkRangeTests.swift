import KuraCore
import Testing

@Suite("IPAddress and NetworkRange")
struct NetworkRangeTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("::", "::"), ("fe80::1%eth0", "fe80::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("::ffff:10.1.2.3", "10.1.2.3"), ("::FFFF:0a01:0203", "10.1.2.3"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ])
    func parsesAndPrintsAddresses(_ text: String, _ printed: String) throws {
        let address = try #require(IPAddress(parsing: text))
        #expect(address.description == printed)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "::1::2", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "localhost", "1.2.3.4/8"])
    func rejectsNonAddresses(_ text: String) {
        #expect(IPAddress(parsing: text) == nil)
    }

    @Test func ipv4RangeMatchesPlainAndMappedAddresses() throws {
        let range = try NetworkRange(parsing: "127.0.0.1/32")
        #expect(range.contains("127.0.0.1"))
        #expect(range.contains("::ffff:127.0.0.1"))
        #expect(!range.contains("127.0.0.3"))
        #expect(!range.contains("::1"))
        #expect(!range.contains("not an address"))
        #expect(range.description == "127.0.0.1/32")
    }

    @Test func prefixesSplitInsideAByte() throws {
        let range = try NetworkRange(parsing: "10.20.16.0/20")
        #expect(range.contains("10.20.16.0"))
        #expect(range.contains("10.20.31.255"))
        #expect(!range.contains("10.20.32.0"))
        #expect(!range.contains("10.20.15.255"))
        let everything = try NetworkRange(parsing: "0.0.0.0/0")
        #expect(everything.contains("203.0.113.9"))
        #expect(!everything.contains("2001:db8::1"), "an IPv4 range never matches a native IPv6 address")
    }

    @Test func ipv6Ranges() throws {
        let range = try NetworkRange(parsing: "fd00:ab::/32")
        #expect(range.contains("fd00:ab:ffff::1"))
        #expect(!range.contains("fd00:ac::1"))
        #expect(range.description == "fd00:ab::/32")
        let mappedIPv4 = try NetworkRange(parsing: "::ffff:0:0/96")
        #expect(mappedIPv4.contains("192.0.2.1"), "the IPv4-mapped block holds every IPv4 address")
        let host = try NetworkRange(parsing: "::1")
        #expect(host.prefixLength == 128)
        #expect(host.contains("::1") && !host.contains("::2"))
    }

    @Test func listsMatchAnyMember() throws {
        let list = try ["10.0.0.0/8", "2001:db8::/32"].map { try NetworkRange(parsing: $0) }
        #expect(list.containsAddress(try #require(IPAddress(parsing: "10.9.9.9"))))
        #expect(list.containsAddress(try #require(IPAddress(parsing: "2001:db8::7"))))
        #expect(!list.containsAddress(try #require(IPAddress(parsing: "192.168.1.1"))))
    }

    @Test(arguments: [
        ("10.0.0.1/8", "bits set after the prefix"), ("10.0.0.0/33", "0 to 32"), ("::/129", "0 to 128"), ("10.0.0.0/", "0 to 32"),
        ("10.0.0.0/x", "0 to 32"), ("example.com/24", "not an IPv4 or IPv6 address"), ("", "not an IPv4"),
    ])
    func rejectsBadRanges(_ text: String, _ reason: String) {
        do {
            _ = try NetworkRange(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect((error as? NetworkRange.ParseError)?.description.contains(reason) == true, "\(error)")
        }
    }
}
