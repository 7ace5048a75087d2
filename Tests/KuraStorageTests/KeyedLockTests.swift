import KuraCore
import KuraTestSupport
import Synchronization
import Testing

@testable import KuraStorage

/// The per-session lock: a newer claimant (a client's retry) makes a holder that waits on its
/// client give way, whenever it arrives; a holder that is not waiting on a client is waited for.
@Suite("Keyed lock")
struct KeyedLockTests {
    /// A body that never ends unless its task is cancelled: a stalled client.
    static func stalledClient() -> (AsyncStream<Int>, AsyncStream<Int>.Continuation) { AsyncStream<Int>.makeStream() }

    /// The retry's result, or nil if it did not get the key within 60 s (a deadline on a
    /// polled condition, not a wait: the start of a full run starved these trivial steps for
    /// 27 s); at the deadline the stalled client is ended, so a holder that never gave way
    /// finishes and the test ends instead of hanging.
    static func outcome(of retry: Task<String, any Error>, stall: AsyncStream<Int>.Continuation) async throws -> String? {
        let finished = Finished()
        let result = Task {
            defer { finished.flag.store(true, ordering: .releasing) }
            return try await retry.value
        }
        do {
            try await Poll.until("the retry to get the key", timeout: .seconds(60)) {
                finished.flag.load(ordering: .acquiring) ? true : nil
            }
        } catch is PollTimeout {
            stall.finish()
            _ = try? await result.value
            return nil
        }
        return try await result.value
    }

    /// Set once the retry has its answer.
    final class Finished: Sendable {
        let flag = Atomic<Bool>(false)
    }

    static func expectInterrupted(_ holder: Task<String, any Error>) async {
        do {
            let value = try await holder.value
            Issue.record("the holder finished (\(value)) instead of giving way")
        } catch let error as RegistryError {
            #expect(error.httpStatus == 409, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func aRetryInterruptsAHolderThatIsReadingItsClient() async throws {
        let lock = KeyedLock()
        let (body, stall) = Self.stalledClient()
        let holder = Task {
            try await lock.withLock("session") { lease in
                try await lease.interruptible { for await _ in body {}; return "read" }
            }
        }
        try await Poll.until("the holder to read its client", timeout: .seconds(60)) { await lock.isHeldInterruptibly("session") ? true : nil }
        let retry = Task { try await lock.withLock("session") { _ in "retry" } }
        let outcome = try await Self.outcome(of: retry, stall: stall)
        stall.finish()
        #expect(outcome == "retry")
        await Self.expectInterrupted(holder)
    }

    /// The retry arrives while the holder has the key but has not started reading (it loads
    /// the session's state): the request to give way is kept for when it starts. It used to be
    /// dropped, and the retry waited for the stalled body's whole timeout (the slow-client
    /// test's rare deadlineExceeded).
    @Test func aRetryBeforeTheHolderReadsIsNotLost() async throws {
        let lock = KeyedLock()
        let (body, stall) = Self.stalledClient()
        let (gate, open) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await lock.withLock("session") { lease in
                for await _ in gate { break }  // still loading
                return try await lease.interruptible { for await _ in body {}; return "read" }
            }
        }
        let retry = Task {
            try await Poll.until("the holder to take the key", timeout: .seconds(60)) { await lock.isHeld("session") ? true : nil }
            return try await lock.withLock("session") { _ in "retry" }
        }
        try await Poll.until("the retry to wait for the key", timeout: .seconds(60)) { await lock.waiterCount("session") == 1 ? true : nil }
        open.yield()
        let outcome = try await Self.outcome(of: retry, stall: stall)
        stall.finish()
        #expect(outcome == "retry", "the retry got the key once the holder started reading")
        await Self.expectInterrupted(holder)
    }

    @Test func aHolderThatIsNotReadingIsWaitedFor() async throws {
        let lock = KeyedLock()
        let (gate, open) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await lock.withLock("session") { _ in
                for await _ in gate { break }  // committing, say: not waiting on a client
                return "committed"
            }
        }
        let retry = Task {
            try await Poll.until("the holder to take the key", timeout: .seconds(60)) { await lock.isHeld("session") ? true : nil }
            return try await lock.withLock("session") { _ in "retry" }
        }
        try await Poll.until("the retry to wait for the key", timeout: .seconds(60)) { await lock.waiterCount("session") == 1 ? true : nil }
        open.yield()
        #expect(try await holder.value == "committed")
        #expect(try await retry.value == "retry")
    }
}
