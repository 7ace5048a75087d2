import Foundation
import HTTPTypes
import HummingbirdTesting
import KuraAccess
import KuraHTTP
import NIOCore
import Testing

/// Request-rate limits per access key and per source address: 429 TOOMANYREQUESTS with
/// `Retry-After` once a caller's bucket is empty.
@Suite struct RateLimitTests {
    @Test func keyOverItsRateGets429WithRetryAfter() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, configure: { $0.requestRates = .init(perKeyPerMinute: 2) }) { client, _, root in
                try await client.makeNamespace("team", root: root)
                let ci = try await client.makeAccount("ci", root: root, grants: [("team", "manager")])
                // Slow rates, so a busy machine cannot refill a token between the requests.
                for _ in 0..<2 { #expect(try await client.v2(.get, "team/app/tags/list", as: ci).status == .notFound) }
                let limited = try await client.v2(.get, "team/app/tags/list", as: ci)
                #expect(limited.status == .tooManyRequests)
                #expect(limited.errorCode == "TOOMANYREQUESTS")
                let retry = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
                #expect((1...30).contains(retry), "one request refills in 30 s at 2 per minute")
                // Another key is not affected.
                #expect(try await client.v2(.get, "team/app/tags/list", as: root).status == .notFound)
            }
        }
    }

    @Test func addressOverItsRateGets429() async throws {
        try await withTemporaryDirectory { dir in
            try await withMeteredServer(dataDirectory: dir, configure: { $0.requestRates = .init(perAddressPerMinute: 1) }) { client, _, root in
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

    @Test func bucketRefillsOverTime() {
        let limiter = RequestRateLimiter(perKeyPerMinute: 60, perAddressPerMinute: 0)
        let start = Date(timeIntervalSince1970: 1_000_000)
        for _ in 0..<60 { #expect(limiter.admit(address: "10.0.0.1", keyID: "K", now: start) == nil) }
        #expect(limiter.admit(address: "10.0.0.1", keyID: "K", now: start) == 1)
        #expect(limiter.admit(address: "10.0.0.1", keyID: "K", now: start.addingTimeInterval(1)) == nil, "one token a second")
        #expect(limiter.admit(address: "10.0.0.1", keyID: "K", now: start.addingTimeInterval(1)) == 1)
        #expect(limiter.admit(address: "10.0.0.1", keyID: nil, now: start) == nil, "anonymous: no key bucket")
    }
}
