import NIOHTTP1
import Testing

@testable import KuraMirror

@Suite("registry client parts")
struct RegistryClientPartsTests {
    @Test func bearerChallenge() throws {
        let challenge = try #require(
            AuthenticationChallenge(header: #"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#))
        #expect(challenge.scheme == .bearer)
        #expect(challenge.realm == "https://auth.example.com/token")
        #expect(challenge.service == "registry.example.com")
        #expect(challenge.parameters["scope"] == "repository:a/b:pull,push")
    }

    @Test func basicAndUnknownChallenges() {
        #expect(AuthenticationChallenge(header: #"Basic realm="kura""#)?.scheme == .basic)
        #expect(AuthenticationChallenge(header: "Negotiate abc") == nil)
    }

    @Test func credentialsNeverShowTheSecret() {
        let credentials = RegistryCredentials(username: "KURAKEY", password: "s3cret-value")
        #expect(!"\(credentials)".contains("s3cret"))
        #expect(!String(reflecting: credentials).contains("s3cret"))
    }

    @Test func paginationLinks() {
        #expect(RegistryClient.nextPage(HTTPHeaders([("Link", #"</v2/_catalog?last=b&n=2>; rel="next""#)])) == "/v2/_catalog?last=b&n=2")
        #expect(RegistryClient.nextPage(HTTPHeaders()) == nil)
    }

    @Test func backoffStaysUnderItsCeiling() {
        let policy = RetryPolicy(attempts: 5, baseDelay: .milliseconds(100), maximumDelay: .milliseconds(300))
        for attempt in 1...6 {
            #expect(policy.delay(after: attempt) <= .milliseconds(300))
        }
    }
}
