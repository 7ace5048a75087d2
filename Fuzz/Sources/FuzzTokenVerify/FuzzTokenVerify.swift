import Foundation

/// Bearer tokens through `TokenService.verify`, the check every authenticated request
/// passes: no input traps, and tampering never changes what a token grants. An input is
/// either a token as text (first byte not 0x01), or (first byte 0x01) a list of
/// (position, byte) overwrites applied to a fresh token this service signed, so the fuzzer
/// works near valid signatures and claims, which it could not find from scratch.

/// A fixed key for the fuzzer only (a test key, never a deployment's).
let fuzzKeyPEM = """
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgE3GBbCjjK9xoSSS+
5Vev0FF93l5j33E2bos2XF7NpAyhRANCAASXWmeHTV9zhOTNesFELmeXhW9vZVKd
1+Ok5OX0jnqVe+nPvKD4QeXJtGerSh2LZqM7GrgHJjGxCAhkfw0tL7Ru
-----END PRIVATE KEY-----
"""

final class Fixture: @unchecked Sendable {
    let service: TokenService
    let token: String
    let granted: TokenService.Verified

    init() {
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var made: (TokenService, String, TokenService.Verified)?
        Task {
            let service = try await TokenService(privateKeyPEM: fuzzKeyPEM, lifetime: 100 * 365 * 86400)
            let token = try await service.issue(
                account: "fuzz", keyID: "KURAFUZZKEY", access: [.repository("team/app", [.pull, .push])])
            made = (service, token, try await service.verify(token))
            semaphore.signal()
        }
        semaphore.wait()
        guard let made else { fatalError("the fixture could not be made") }
        (service, token, granted) = made
    }

    func verify(_ token: String) -> TokenService.Verified? {
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: TokenService.Verified?
        Task {
            result = try? await service.verify(token)
            semaphore.signal()
        }
        semaphore.wait()
        return result
    }
}

let fixture = Fixture()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    if input.first == 0x01 {
        var token = Array(fixture.token.utf8)
        var index = 1
        while index + 2 < input.count {
            let position = (Int(input[index]) << 8 | Int(input[index + 1])) % token.count
            token[position] = input[index + 2]
            index += 3
        }
        guard let verified = fixture.verify(String(decoding: token, as: UTF8.self)) else { return 0 }
        precondition(verified.account == fixture.granted.account, "a tampered token names another account")
        precondition(verified.keyID == fixture.granted.keyID, "a tampered token names another key")
        precondition(verified.access == fixture.granted.access, "a tampered token grants other access")
    } else {
        guard let verified = fixture.verify(String(decoding: input, as: UTF8.self)) else { return 0 }
        // Only this service's key signs, so only its own token can pass.
        precondition(verified.account == "fuzz" && verified.access == fixture.granted.access, "a token this service did not sign passed")
    }
    return 0
}
