import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraAccess
import KuraHTTP
import KuraServerTestSupport
import KuraTestSupport
import NIOCore
import Testing

/// Request-rate limits per access key and per source address: 429 TOOMANYREQUESTS with
/// `Retry-After` once a caller's bucket is empty.
/// Live: per-address limits need the peer address a socket gives. The servers run on a
/// manual clock, so no bucket refills between the requests however slow the machine is.
@Suite struct RateLimitTests {
    @Test func keyOverItsRateGets429WithRetryAfter() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, configure: { $0.requestRates = .init(perKeyPerMinute: 6) }, clock: ManualClock()) { client, _, root in
                // Root's setup takes 4 of its 6 admin/registry requests.
                try await client.makeNamespace("team", root: root)
                let ci = try await client.makeAccount("ci", root: root, grants: [("team", "manager")])
                for _ in 0..<6 { #expect(try await client.v2(.get, "team/app/tags/list", as: ci).status == .notFound) }
                let limited = try await client.v2(.get, "team/app/tags/list", as: ci)
                #expect(limited.status == .tooManyRequests)
                #expect(limited.errorCode == "TOOMANYREQUESTS")
                let retry = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
                #expect((1...10).contains(retry), "one request refills in 10 s at 6 per minute")
                // Another key is not affected.
                #expect(try await client.v2(.get, "team/app/tags/list", as: root).status == .notFound)
            }
        }
    }

    @Test func addressOverItsRateGets429() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, configure: { $0.requestRates = .init(perAddressPerMinute: 1) }, clock: ManualClock()) { client, _, root in
                #expect(try await client.v2(.get, "", as: root).status == .ok)
                let limited = try await client.v2(.get, "", as: root)
                #expect(limited.status == .tooManyRequests)
                #expect(limited.headers[.retryAfter] != nil)
                // Refused before authentication: even bad credentials get 429, not 401.
                let bogus = TestKey(id: "KURANOSUCHKEY", secret: "wrong")
                #expect(try await client.v2(.get, "", as: bogus).status == .tooManyRequests)
            }
        }
    }

    /// `/api/v1` draws on the same buckets as `/v2/`: per key once authenticated, per
    /// address before that.
    @Test func adminAPIIsLimitedPerKeyAndPerAddress() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, configure: { $0.requestRates = .init(perKeyPerMinute: 6) }, clock: ManualClock()) { client, _, root in
                try await client.makeNamespace("team", root: root)
                let ci = try await client.makeAccount("ci", root: root, grants: [("team", "viewer")])
                for _ in 0..<5 { #expect(try await client.admin(.get, "whoami", as: ci).status == .ok) }
                #expect(try await client.v2(.get, "team/app/tags/list", as: ci).status == .notFound, "the 6th, on /v2/")
                let limited = try await client.admin(.get, "whoami", as: ci)
                #expect(limited.status == .tooManyRequests)
                #expect(limited.errorCode == "TOOMANYREQUESTS")
                let retry = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
                #expect((1...10).contains(retry), "one request refills in 10 s at 6 per minute")
                #expect(try await client.admin(.get, "namespaces/team/quota", as: ci).status == .tooManyRequests)
                #expect(try await client.v2(.get, "team/app/tags/list", as: ci).status == .tooManyRequests, "one budget for both APIs")
                // Root (4 requests of setup so far) is not affected.
                #expect(try await client.admin(.get, "whoami", as: root).status == .ok)
            }
        }
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, configure: { $0.requestRates = .init(perAddressPerMinute: 2) }, clock: ManualClock()) { client, _, root in
                for _ in 0..<2 { #expect(try await client.admin(.get, "whoami", as: root).status == .ok) }
                let limited = try await client.admin(.get, "whoami", as: root)
                #expect(limited.status == .tooManyRequests)
                #expect(limited.headers[.retryAfter].flatMap { Int($0) } != nil)
                // Refused before authentication: even bad credentials get 429, not 401.
                let bogus = TestKey(id: "KURANOSUCHKEY", secret: "wrong")
                #expect(try await client.admin(.get, "whoami", as: bogus).status == .tooManyRequests)
            }
        }
    }

    @Test func bucketRefillsOverTime() {
        let clock = ManualClock()
        let limiter = RequestRateLimiter(perKeyPerMinute: 60, perAddressPerMinute: 0, clock: clock)
        for _ in 0..<60 { #expect(limiter.admit(address: "10.0.0.1", keyID: "K") == nil) }
        #expect(limiter.admit(address: "10.0.0.1", keyID: "K") == 1)
        clock.advance(by: .milliseconds(500))
        #expect(limiter.admit(address: "10.0.0.1", keyID: "K") == 1, "half a token is not a request")
        clock.advance(by: .milliseconds(500))
        #expect(limiter.admit(address: "10.0.0.1", keyID: "K") == nil, "one token a second")
        #expect(limiter.admit(address: "10.0.0.1", keyID: "K") == 1)
        clock.advance(by: .seconds(3600))
        for _ in 0..<60 { #expect(limiter.admit(address: "10.0.0.1", keyID: "K") == nil) }
        #expect(limiter.admit(address: "10.0.0.1", keyID: "K") == 1, "a bucket holds a minute's allowance, no more")
        #expect(limiter.admit(address: "10.0.0.1", keyID: nil) == nil, "anonymous: no key bucket")
    }
}
