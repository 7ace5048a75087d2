import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Kura on this machine.",
        subcommands: [BenchIngestCommand.self, BenchHashCommand.self, BenchPushCommand.self, BenchPullCommand.self, BenchManifestsCommand.self, BenchGCCommand.self, BenchScanCommand.self, BenchConsoleCommand.self]
    )
}
