import ArgumentParser

@main
struct IntakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Batch data import: a server wire-compatible with the Haplo batch import API, and its tools.",
        subcommands: [ServeCommand.self, RunCommand.self, APIKeyCommand.self])
}

/// Options shared by every command that works on a data directory.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (SQLite database and blob files).")
    var data: String = "./intake-data"

    @Option(name: .long, help: "A schema file to load on top of the standard schema (repeatable).")
    var schema: [String] = []
}
