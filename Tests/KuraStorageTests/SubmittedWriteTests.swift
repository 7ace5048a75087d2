import Foundation
@testable import KuraStorage
import KuraTestSupport
import Synchronization
import Testing

/// A write handed to the blocking pool from synchronous code gives its awaiter exactly its
/// result, whether it ended before or after the await began.
@Suite("A write submitted to the blocking pool", .timeLimit(.minutes(2)))
struct SubmittedWriteTests {
    final class Flag: Sendable {
        private let raised = Atomic<Bool>(false)
        var isRaised: Bool { raised.load(ordering: .acquiring) }
        func raise() { raised.store(true, ordering: .releasing) }
    }

    @Test func aWriteThatEndedBeforeTheAwaitGivesItsValue() async throws {
        let ended = Flag()
        let write = SubmittedWrite { () -> Int in
            defer { ended.raise() }
            return 42
        }
        try await Poll.until("the write ended") { ended.isRaised ? true : nil }
        #expect(try await write.value() == 42)
    }

    @Test func anAwaitThatBeganFirstGetsTheValueWhenTheWriteEnds() async throws {
        let started = Flag()
        let gate = DispatchSemaphore(value: 0)
        let write = SubmittedWrite { () -> String in
            started.raise()
            gate.wait()  // held until the awaiter is waiting (or about to)
            return "written"
        }
        try await Poll.until("the write started") { started.isRaised ? true : nil }
        async let value = write.value()
        gate.signal()
        #expect(try await value == "written")
    }

    @Test func anErrorReachesTheAwaiter() async throws {
        let write = SubmittedWrite { () -> Int in throw StorageError.io(operation: "pwrite", path: "/x", errno: ENOSPC) }
        await #expect(throws: StorageError.io(operation: "pwrite", path: "/x", errno: ENOSPC)) { try await write.value() }
    }

    /// The write's end and the await race in every order: no result is lost or given twice (a
    /// lost wake-up would hang here until the time limit; a double resume would crash).
    @Test func manyRacingWritesEachGiveTheirOwnResult() async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<4000 {
                group.addTask {
                    let write = SubmittedWrite { index * 3 }
                    if index % 2 == 0 { await Task.yield() }
                    return try await write.value() == index * 3
                }
            }
            var correct = 0
            for try await ok in group where ok { correct += 1 }
            #expect(correct == 4000)
        }
    }
}
