import ArgumentParser
import Foundation
import IntakeCore

@main
struct IntakeCommand: AsyncParsableCommand {
    static func main() async {
        // Every file Intake creates (database, WAL, blobs, locks) is its owner's alone: they hold
        // people's records. Set once, before anything is opened.
        umask(0o077)
        // Past a file-size limit (ulimit -f) a write should fail with EFBIG and be answered as such,
        // not kill the server with SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Batch data import: a server wire-compatible with the Haplo batch import API, and its tools.",
        version: IntakeVersion.current,
        groupedSubcommands: [
            CommandGroup(
                name: "Server and local (on a data directory)",
                subcommands: [
                    ServeCommand.self, RunCommand.self, APIKeyCommand.self, AdminCommand.self, WebhookCommand.self, PushAPICommand.self, ValidateCommand.self,
                    PurgeCommand.self, BackupCommand.self, RestoreCommand.self
                ]),
            CommandGroup(
                name: "Client (to a server over HTTP)",
                subcommands: [
                    PushCommand.self, ScheduleCommand.self, StatusCommand.self, LogCommand.self, ResultsCommand.self,
                    BatchActionCommand<CancelAction>.self, BatchActionCommand<CopyAction>.self,
                    RollbackCommand.self, RetryCommand.self, BatchActionCommand<ApproveAction>.self, BatchesCommand.self,
                    FeedsCommand.self, FeedCommand.self
                ])
        ])
}

/// Options shared by every command that works on a data directory.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (SQLite database and blob files); else INTAKE_DATA.")
    var data: String = Settings.string("data", default: "./intake-data")

    @Option(
        name: .customLong("database"),
        help: "A PostgreSQL database holding everything instead (postgres://user:password@host:5432/db); else INTAKE_DATABASE_URL.")
    var databaseOption: String?

    /// `--database`, else the setting (an optional option cannot have a default of its own).
    var database: String? {
        get { databaseOption ?? Settings.value("database-url")?.value }
        set { databaseOption = newValue }
    }

    @Option(name: .long, help: "Connections to PostgreSQL this process opens at most (with --database).")
    var poolSize: Int = Settings.int("pool-size", default: 10)

    @Option(name: .long, help: "A schema file to load on top of the standard schema (repeatable).")
    var schema: [String] = []
}
