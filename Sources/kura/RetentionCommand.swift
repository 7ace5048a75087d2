import ArgumentParser
import Foundation
import KuraCore
import KuraMetadata
import KuraRegistry

struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Retention policies: which tags a namespace or repository keeps.",
        discussion: """
            A tag is kept if it matches --keep-pattern or is among the --keep-last most recently \
            pushed; any other tag goes once it is older than --older-than (or at once with only \
            --keep-last). A manifest goes with its last tag unless something else holds it (another \
            tag, an index, a tagged referrer); its blobs are then garbage collection's to free.
            """,
        subcommands: [Set.self, Remove.self, List.self, Run.self]
    )

    static func store(_ options: JobOptions) async throws -> (Registry, any RetentionStore) {
        let registry = try await options.openRegistry()
        return (registry, registry.catalog.retention)
    }

    struct Set: AsyncParsableCommand {
        @OptionGroup var options: JobOptions
        @Argument(help: "A namespace (team) or repository (team/app).") var scope: String
        @Option(help: "Keep the N most recently pushed tags.") var keepLast: Int?
        @Option(help: "Keep tags matching this regular expression (whole tag).") var keepPattern: String?
        @Option(help: "Delete other tags older than this (e.g. 30d).") var olderThan: DurationArgument?

        func validate() throws {
            guard (try? RepositoryName(parsing: scope)) != nil else { throw ValidationError("invalid scope \(scope)") }
            if let keepLast, keepLast < 0 { throw ValidationError("--keep-last must be 0 or more") }
            if keepLast == nil, olderThan == nil { throw ValidationError("give --keep-last and/or --older-than") }
            if let keepPattern, (try? NSRegularExpression(pattern: keepPattern)) == nil {
                throw ValidationError("--keep-pattern is not a valid regular expression")
            }
        }

        func run() async throws {
            let (_, store) = try await RetentionCommand.store(options)
            let policy = RetentionPolicy(scope: scope, keepLast: keepLast, keepPattern: keepPattern, deleteOlderThan: olderThan?.seconds)
            try await store.setRetentionPolicy(policy)
            if options.json { try printJSON(policy) } else { print("retention policy for \(scope) set") }
        }
    }

    struct Remove: AsyncParsableCommand {
        @OptionGroup var options: JobOptions
        @Argument var scope: String
        func run() async throws {
            let (_, store) = try await RetentionCommand.store(options)
            guard try await store.removeRetentionPolicy(scope: scope) else { throw ValidationError("no policy for \(scope)") }
            print("retention policy for \(scope) removed")
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: JobOptions
        func run() async throws {
            let (_, store) = try await RetentionCommand.store(options)
            let policies = try await store.retentionPolicies()
            if options.json { return try printJSON(policies) }
            if policies.isEmpty { print("(no policies)") }
            for p in policies {
                print("\(p.scope): keep last \(p.keepLast.map(String.init) ?? "-"), keep /\(p.keepPattern ?? "")/, delete older than \(p.deleteOlderThan.map { "\(Int($0))s" } ?? "-")")
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the policies (use --dry-run to list what would go).")
        @OptionGroup var options: JobOptions
        func run() async throws {
            let (registry, _) = try await RetentionCommand.store(options)
            let decisions = try await RetentionEvaluator(registry: registry).run(dryRun: options.dryRun)
            if options.json { return try printJSON(decisions) }
            for d in decisions {
                let manifest = d.manifestDeleted ? ", with its manifest" : ""
                print("\(options.dryRun ? "would delete" : "deleted") \(d.repository):\(d.tag) (\(d.digest)\(manifest), policy \(d.policy))")
            }
            let manifests = Swift.Set(decisions.filter(\.manifestDeleted).map { "\($0.repository)@\($0.digest)" }).count
            print(
                "\(decisions.count) tag(s) and \(manifests) manifest(s) \(options.dryRun ? "would go" : "deleted"); "
                    + "the next kura gc frees their blobs once pushed longer ago than its --grace (24 h)")
        }
    }
}
