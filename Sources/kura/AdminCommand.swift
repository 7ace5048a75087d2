import ArgumentParser
import Foundation

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Manage namespaces, accounts, access keys, grants, descriptions; read the audit log (through the admin API).",
        subcommands: [
            WhoAmI.self, NamespaceCommand.self, AccountCommand.self, KeyCommand.self, GrantCommand.self, DescriptionCommand.self,
            AuditCommand.self, WebhookCommand.self,
        ]
    )

    struct WhoAmI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show the caller's account and grants.")
        @OptionGroup var options: AdminOptions
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.GET, "whoami")) { value in
                let object = value as? [String: Any] ?? [:]
                return "\(object["account"] ?? "?") (key \(object["accessKeyID"] ?? "?"))\((object["root"] as? Bool) == true ? ", root" : "")"
            }
        }
    }
}

struct NamespaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "namespace", abstract: "Namespaces.", subcommands: [List.self, Create.self, SetPublic.self, Delete.self, Quota.self])

    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show, set (--bytes) or remove (--remove) a namespace's storage quota (bytes after dedup).")
        @OptionGroup var options: AdminOptions
        @Argument var name: String
        @Option(help: "Maximum stored bytes.") var bytes: Int64?
        @Flag(help: "Remove the quota.") var remove = false

        func validate() throws {
            if bytes != nil && remove { throw ValidationError("choose --bytes or --remove, not both") }
            if let bytes, bytes < 0 { throw ValidationError("--bytes must not be negative") }
        }

        func run() async throws {
            let client = try AdminClient(options)
            if remove {
                try client.show(try await client.call(.DELETE, "namespaces/\(name)/quota")) { _ in "removed the quota of \(name)" }
                return
            }
            let status: Any?
            if let bytes {
                status = try await client.call(.PUT, "namespaces/\(name)/quota", body: ["maxBytes": bytes])
            } else {
                status = try await client.call(.GET, "namespaces/\(name)/quota")
            }
            try client.show(status) { value in
                let object = value as? [String: Any] ?? [:]
                return "\(name): stores \(object["physicalBytes"] ?? "?") bytes, quota \(object["maxBytes"].map { "\($0) bytes" } ?? "none")"
            }
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.GET, "namespaces")) { AdminClient.table($0, columns: ["name", "public", "createdAt"]) }
        }
    }

    struct Create: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var name: String
        @Flag(help: "Allow anonymous pulls.") var `public` = false
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.POST, "namespaces", body: ["name": name, "public": `public`])) { _ in "created namespace \(name)" }
        }
    }

    struct SetPublic: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-public")
        @OptionGroup var options: AdminOptions
        @Argument var name: String
        @Argument(help: "true or false") var value: Bool
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.PATCH, "namespaces/\(name)", body: ["public": value])) { _ in "namespace \(name) is \(value ? "public" : "private")" }
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var name: String
        @Flag(help: "Also delete its repositories.") var force = false
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.DELETE, "namespaces/\(name)\(force ? "?force=true" : "")")) { value in
                let removed = (value as? [String: Any])?["removedRepositories"] as? [String] ?? []
                return "deleted namespace \(name)" + (removed.isEmpty ? "" : " and \(removed.count) repositories")
            }
        }
    }
}

struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Accounts.", subcommands: [List.self, Create.self, Disable.self, Enable.self, Delete.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.GET, "accounts")) { AdminClient.table($0, columns: ["name", "root", "admin", "disabled"]) }
        }
    }

    struct Create: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var name: String
        @Flag(help: "May manage accounts, keys and grants.") var admin = false
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.POST, "accounts", body: ["name": name, "admin": admin])) { _ in "created account \(name)" }
        }
    }

    struct Disable: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var name: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.PATCH, "accounts/\(name)", body: ["disabled": true])) { _ in "disabled \(name)" }
        }
    }

    struct Enable: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var name: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.PATCH, "accounts/\(name)", body: ["disabled": false])) { _ in "enabled \(name)" }
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var name: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.DELETE, "accounts/\(name)")) { _ in "deleted \(name)" }
        }
    }
}

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Access keys (at most two active per account).",
        subcommands: [List.self, Create.self, Rotate.self, Disable.self, Enable.self, Delete.self])

    static func newKeyText(_ value: Any?) -> String {
        let key = value as? [String: Any] ?? [:]
        return """
            access key id: \(key["accessKeyID"] ?? "?")
            secret key:    \(key["secretKey"] ?? "?")
            (the secret is shown only now)
            """
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var account: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.GET, "accounts/\(account)/keys")) {
                AdminClient.table($0, columns: ["accessKeyID", "status", "createdAt", "lastUsedAt"])
            }
        }
    }

    struct Create: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var account: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.POST, "accounts/\(account)/keys"), human: KeyCommand.newKeyText)
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a new key, then disable the old one.")
        @OptionGroup var options: AdminOptions
        @Argument var account: String
        @Argument(help: "The key to retire.") var oldKeyID: String
        func run() async throws {
            let client = try AdminClient(options)
            let created = try await client.call(.POST, "accounts/\(account)/keys")
            _ = try await client.call(.PATCH, "keys/\(oldKeyID)", body: ["status": "disabled"])
            try client.show(created) { KeyCommand.newKeyText($0) + "\ndisabled \(oldKeyID)" }
        }
    }

    struct Disable: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var id: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.PATCH, "keys/\(id)", body: ["status": "disabled"])) { _ in "disabled \(id)" }
        }
    }

    struct Enable: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var id: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.PATCH, "keys/\(id)", body: ["status": "active"])) { _ in "enabled \(id)" }
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var id: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.DELETE, "keys/\(id)")) { _ in "deleted \(id)" }
        }
    }
}

struct GrantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant", abstract: "Roles per namespace (`_all` for every namespace).", subcommands: [List.self, Set.self, Remove.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var account: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.GET, "accounts/\(account)/grants")) { AdminClient.table($0, columns: ["namespace", "role"]) }
        }
    }

    struct Set: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var account: String
        @Argument var namespace: String
        @Argument(help: "manager or viewer") var role: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.PUT, "accounts/\(account)/grants/\(namespace)", body: ["role": role])) { _ in
                "\(account) is \(role) of \(namespace)"
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var account: String
        @Argument var namespace: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.DELETE, "accounts/\(account)/grants/\(namespace)")) { _ in "removed \(account)'s grant on \(namespace)" }
        }
    }
}

struct DescriptionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "description", abstract: "Repository descriptions.", subcommands: [Get.self, Set.self])

    struct Get: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var repository: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.GET, "repositories/\(repository)/description")) { value in
                let d = value as? [String: Any] ?? [:]
                return "\(d["short"] ?? "")\n\n\(d["full"] ?? "")"
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the short description, the full one, or both; a field not given stays as it is.",
            discussion: "An empty value clears a field: --short '' or --full-file /dev/null.")
        @OptionGroup var options: AdminOptions
        @Argument var repository: String
        @Option(help: "One line, at most 100 characters.") var short: String?
        @Option(help: "A Markdown file for the full description (at most 64 KiB).") var fullFile: String?

        func validate() throws {
            guard short != nil || fullFile != nil else { throw ValidationError("give --short, --full-file or both") }
        }

        func run() async throws {
            let client = try AdminClient(options)
            var body: [String: String] = [:]
            if let short { body["short"] = short }
            if let fullFile { body["full"] = try String(contentsOfFile: fullFile, encoding: .utf8) }
            try client.show(try await client.call(.PUT, "repositories/\(repository)/description", body: body)) { _ in
                "updated the description of \(repository) (\(body.keys.sorted().joined(separator: ", ")))"
            }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Read the audit log, newest first.")
    @OptionGroup var options: AdminOptions
    @Option var account: String?
    @Option var namespace: String?
    @Option(help: "e.g. manifest.push, login.failure, key.create") var action: String?
    @Option(help: "ISO 8601, e.g. 2026-11-01T00:00:00Z") var since: String?
    @Option(help: "ISO 8601") var until: String?
    @Option var limit: Int = 100

    func run() async throws {
        let client = try AdminClient(options)
        var query = ["limit=\(limit)"]
        for (key, value) in [("account", account), ("namespace", namespace), ("action", action), ("since", since), ("until", until)] {
            if let value { query.append("\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? value)") }
        }
        try client.show(try await client.call(.GET, "audit?" + query.joined(separator: "&"))) {
            AdminClient.table($0, columns: ["time", "action", "account", "accessKeyID", "sourceAddress", "repository", "detail"])
        }
    }
}

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook", abstract: "Webhooks of a namespace (signed JSON POSTs on push, delete, pull, job).",
        subcommands: [List.self, Create.self, Delete.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var namespace: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.GET, "namespaces/\(namespace)/webhooks")) { AdminClient.table($0, columns: ["id", "url", "events", "createdAt"]) }
        }
    }

    struct Create: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var namespace: String
        @Argument(help: "The http or https URL that receives the POSTs.") var url: String
        @Option(help: "The HMAC secret (KURA_WEBHOOK_SECRET); it is stored sealed and never shown again.") var secret: String?
        @Option(help: "Comma-separated: push, delete, pull, job.") var events: String = "push,delete"
        func run() async throws {
            guard let secret = secret ?? ProcessInfo.processInfo.environment["KURA_WEBHOOK_SECRET"] else {
                throw ValidationError("a secret is needed: --secret or KURA_WEBHOOK_SECRET")
            }
            let client = try AdminClient(options)
            let list = events.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            try client.show(
                try await client.call(.POST, "namespaces/\(namespace)/webhooks", body: ["url": url, "secret": secret, "events": list])
            ) { value in "created webhook \((value as? [String: Any])?["id"] ?? "?") for \(namespace)" }
        }
    }

    struct Delete: AsyncParsableCommand {
        @OptionGroup var options: AdminOptions
        @Argument var namespace: String
        @Argument var id: String
        func run() async throws {
            let client = try AdminClient(options)
            try client.show(try await client.call(.DELETE, "namespaces/\(namespace)/webhooks/\(id)")) { _ in "deleted webhook \(id)" }
        }
    }
}
