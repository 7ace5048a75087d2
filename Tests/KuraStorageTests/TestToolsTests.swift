import Foundation
import KuraTestSupport
import Testing

/// The test command installs PyPI tools into a virtual environment of its own, made from
/// Debian's Python (whose system site is EXTERNALLY-MANAGED, PEP 668), and the tests find
/// them there (issue 19, item 6).
@Suite("Test tools")
struct TestToolsTests {
    @Test func pyPIToolsComeFromTheScriptsVirtualEnvironment() async throws {
        let venv = TestTools.virtualEnvironment
        let configuration = try String(contentsOfFile: "\(venv)/pyvenv.cfg", encoding: .utf8)
        #expect(configuration.contains("home = /usr/bin"), "made by Debian's python3 -m venv: \(configuration)")
        for tool in ["weed", "trivy"] {
            #expect(try TestTools.require(tool).hasPrefix("\(venv)/bin/"), "\(tool) from the virtual environment")
        }
        _ = try TestTools.python()
        // install-deps and the tests agree on the folder.
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/install-deps").path
        let process = try ChildProcess.spawn(script, ["--print-venv"], standardOutput: .capture, standardError: .inherit)
        #expect(await process.wait() == .exited(0))
        let printed = String(decoding: await process.capturedOutput(), as: UTF8.self)
        #expect(printed.trimmingCharacters(in: .whitespacesAndNewlines) == venv)
    }

    @Test func aMissingToolFailsWithTheInstallCommand() {
        #expect(TestTools.path("no-such-tool-\(UUID().uuidString.prefix(6))") == nil)
        #expect(TestTools.Missing(tool: "x").description.contains("scripts/install-deps"))
    }

    @Test func aProcessPastItsTimeoutIsKilledOnTheGivenClock() async throws {
        try await withTemporaryDirectory { scratch in
            let clock = ManualClock()
            async let run = ExternalProcess.run(
                "/bin/sleep", ["600"], scratch: scratch, timeout: .seconds(5), check: false, clock: clock)
            #expect(await clock.waitForSleepers(1))
            clock.advance(by: .seconds(5))
            let result = try await run
            #expect(result.status == 128 + SIGKILL)  // killed, not a ten-minute sleep that ended
        }
    }
}
