import ArgumentParser
import Foundation
import IntakeApp
import IntakeCore
import IntakeRunner
import IntakeStore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Import files locally, through the same engine and store as the server.")

    @OptionGroup var data: DataOptions

    @Option(help: "The control file.") var control: String

    @Option(name: .customLong("file"), help: "NAME=PATH: a data file and its name in the control file (repeatable).")
    var files: [String] = []

    @Flag(help: "Transform everything but commit nothing.") var dryRun = false

    func run() async throws {
        let logger = Logging.bootstrapOnce(label: "intake")
        var pairs: [(name: String, path: String)] = []
        for file in files {
            guard let eq = file.firstIndex(of: "="), eq != file.startIndex else {
                throw ValidationError("--file expects NAME=PATH, got '\(file)'.")
            }
            pairs.append((String(file[..<eq]), String(file[file.index(after: eq)...])))
        }
        let directory = try DataDirectory(path: data.data)
        let environment = try await directory.environment(schemaFiles: data.schema)
        let summary: DirectRun.Summary
        do {
            summary = try await DirectRun.run(
                environment: environment, controlPath: control, files: pairs,
                dryRun: dryRun, logger: logger)
        } catch let error as any UserFacingError where !error.isServerFailure {
            FileHandle.standardError.write(Data((error.userMessage + "\n").utf8))
            throw ExitCode(2)
        }
        for line in summary.log { print(line) }
        let p = summary.batch.progress
        print(
            "\(summary.batch.state.rawValue): \(p.recordsRead) records read, \(p.recordsApplied) applied, \(p.recordsFailed) failed, \(p.recordsUnchanged) unchanged, \(p.errors) errors (batch \(summary.batch.id))"
        )
        if summary.batch.state == .error { throw ExitCode(1) }
    }
}
