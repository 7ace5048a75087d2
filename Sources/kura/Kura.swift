import ArgumentParser

@main
struct Kura: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kura",
        abstract: "A private OCI container registry.",
        subcommands: [
            ServeCommand.self, AdminCommand.self, GCCommand.self, ScrubCommand.self, RetentionCommand.self, MirrorCommand.self, UsageCommand.self,
            BenchCommand.self, ScanCommand.self, BackupCommand.self, RestoreCommand.self, CatalogCommand.self,
        ]
    )
}
