import ArgumentParser
import Foundation
import IntakeApp
import IntakeCore
import IntakeRunner

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a control file offline, as the server would, and show what a run would log before its first record.",
        discussion: """
            Prints `OK`, or the server's exact refusal (with the line and column of a JSON syntax \\
            error), then any preparation warnings: unknown destinations, names or filters, bad date \\
            formats and the like, which the server accepts but writes into every run's log. Nothing \\
            is uploaded and no data directory is needed.

            Examples:
              intake validate control.json
              intake validate --schema local-schema.json --strict control.json

            Exit status: 0 accepted (and, with --strict, no warnings); 2 refused, or warnings with --strict.
            """)

    @Argument(help: "The control file.") var control: String

    @Option(help: "A schema file to load on top of the standard schema (repeatable), as the server is started with.")
    var schema: [String] = []

    @Flag(help: "Treat warnings as errors.") var strict = false

    func run() throws {
        guard let data = FileManager().contents(atPath: control) else {
            throw ValidationFailure("Cannot read the file \(control)")
        }
        let models = ModelRegistry(schema: try DataDirectory.schema(files: schema))
        let environmentReaders = Set((StandardReaders.all + [XLSXReader.descriptor]).map(\.name))
        let vocabulary = ControlFileVocabulary(models: models, readers: environmentReaders, filters: Set(StandardFilters.all.map(\.name)))
        let check = ControlFileCheck.check(bytes: Array(data), vocabulary: vocabulary)
        if let refusal = check.refusal {
            if let syntaxError = check.syntaxError { FileHandle.standardError.write(Data("\(control):\(syntaxError)\n".utf8)) }
            FileHandle.standardError.write(Data((refusal + "\n").utf8))
            throw ExitCode(2)
        }
        for warning in check.warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        print(check.warnings.isEmpty ? "OK" : "OK, with \(check.warnings.count) warning\(check.warnings.count == 1 ? "" : "s")")
        if strict && !check.warnings.isEmpty { throw ExitCode(2) }
    }
}
