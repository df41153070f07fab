import ArgumentParser
import Foundation
import IntakeApp
import IntakeCore
import IntakeRunner

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a control file offline, as the server would, and show what a run would log before its first record.",
        discussion: """
            Prints `OK`, or the server's exact refusal, then any preparation warnings: unknown \
            destinations, names or filters, bad date formats and the like, which the server accepts \
            but writes into every run's log. Each problem says where it is (its JSON path, line and \
            column) and, for a misspelt action, filter or reader, what was probably meant; a file that \
            is not JSON gets the line and column of the syntax error. Nothing is uploaded and no data \
            directory is needed.

            Examples:
              intake validate control.json
              intake validate --schema local-schema.json --strict control.json

            Exit status: 0 accepted (and, with --strict, no warnings); 2 refused, or warnings with --strict.
            """)

    @Argument(help: "The control file.") var control: String

    @Option(help: "A schema file to load on top of the standard schema (repeatable), as the server is started with.")
    var schema: [String] = []

    @Flag(help: "Treat warnings as errors.") var strict = false

    @Option(name: .customLong("data"), help: "The data directory whose webhooks a feed's notify names are checked against; else INTAKE_DATA.")
    var dataDirectory: String = Settings.string("data", default: "./intake-data")

    @Option(name: .customLong("database"), help: "A PostgreSQL database to check notify names against instead; else INTAKE_DATABASE_URL.")
    var databaseOption: String?

    /// `--database`, else the setting.
    var database: String? { databaseOption ?? Settings.value("database-url")?.value }

    func run() async throws {
        guard let data = FileManager().contents(atPath: control) else {
            throw ValidationFailure("Cannot read the file \(control)")
        }
        let models = ModelRegistry(schema: try DataDirectory.schema(files: schema))
        let vocabulary = ImportEnvironment.standardVocabulary(models: models)
        let check = ControlFileCheck.check(bytes: Array(data), vocabulary: vocabulary)
        let parsed = try? JSONParser.parse(Array(data))
        // The server's words, with where each problem is and what was probably meant.
        func annotated(_ message: String) -> String {
            parsed.map { ControlFileHints.annotate(message, control: $0, text: Array(data), vocabulary: vocabulary) } ?? message
        }
        if let refusal = check.refusal {
            if let syntaxError = check.syntaxError {
                FileHandle.standardError.write(Data("\(control):\(syntaxError)\nNot JSON: \(control)\n".utf8))
                throw ExitCode(2)
            }
            let lines = refusal.components(separatedBy: "\n  ")
            let text = ([lines[0]] + lines.dropFirst().map { "  " + annotated($0) }).joined(separator: "\n")
            FileHandle.standardError.write(Data(((lines.count > 1 ? text : annotated(refusal)) + "\n").utf8))
            throw ExitCode(2)
        }
        var warnings = check.warnings
        if let parsed { warnings += try await notifyWarnings(parsed) }
        for warning in warnings {
            FileHandle.standardError.write(Data("warning: \(annotated(warning))\n".utf8))
        }
        if strict && !warnings.isEmpty {
            FileHandle.standardError.write(Data("Refused with --strict: \(warnings.count) warning\(warnings.count == 1 ? "" : "s")\n".utf8))
            throw ExitCode(2)
        }
        print(warnings.isEmpty ? "OK" : "OK, with \(warnings.count) warning\(warnings.count == 1 ? "" : "s")")
    }

    /// A feed's `notify` names that no webhook has: the server accepts them (webhooks may be added
    /// later), but nobody would be told.
    private func notifyWarnings(_ control: JSONValue) async throws -> [String] {
        guard case .object(let root) = control, let feed = FeedDeclaration(control: root), !feed.notify.isEmpty else { return [] }
        let hasStore = (database.map { !$0.isEmpty } ?? false) || FileManager().fileExists(atPath: dataDirectory)
        guard hasStore else {
            return ["Feed notify names \(feed.notify.joined(separator: ", ")): no data directory at \(dataDirectory) to check them against"]
        }
        var options = try DataOptions.parse([])
        options.data = dataDirectory
        options.database = database
        let unknown = try await Storage.open(options).service().unknownNotifyNames(in: control)
        return unknown.map { "Feed notify names \($0), but no webhook has that name" }
    }
}
