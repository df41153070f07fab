import ArgumentParser
import Foundation
import IntakeApp
import IntakeCore
import IntakeRunner
import IntakeStore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Import files locally, through the same engine and store as the server.",
        discussion: """
            The control file is checked as an upload is, every file name must have a specification in \
            it, and the batch runs to the end in this process (a server may be running on the same \
            data directory). The log and a summary are printed; on a terminal a progress bar shows \
            how far the run has got.

            Examples:
              intake run --control people.json --file people=staff.csv --dry-run
              intake run --control people.json --file people=staff.csv \\
                  --results results.ndjson --max-errors 100

            \(ImportExitStatus.help)
            """)

    @OptionGroup var data: DataOptions

    @Option(help: "The control file.") var control: String

    @Option(name: .customLong("file"), help: "NAME=PATH: a data file and its name in the control file (repeatable).")
    var files: [String] = []

    @Flag(help: "Transform everything but commit nothing.") var dryRun = false

    @Option(help: "Write the per-record results (one JSON line per record) to this file.") var results: String?

    @Option(help: "Stop the run (as a cancel does) once this many errors have been reported.") var maxErrors: Int?

    func run() async throws {
        let logger = Logging.bootstrapOnce(label: "intake")
        let pairs = try FileArgument.parse(files)
        let directory = try await Storage.open(data)
        let environment = try await directory.environment(schemaFiles: data.schema)
        let terminal = Terminal.standardError
        let totalBytes = pairs.reduce(Int64(0)) { total, file in
            total + ((try? FileManager().attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0)
        }
        let maxErrors = self.maxErrors
        let summary: DirectRun.Summary
        do {
            summary = try await DirectRun.run(
                environment: environment, controlPath: control, files: pairs, dryRun: dryRun, logger: logger,
                watch: { progress in
                    terminal.progress(
                        fraction: totalBytes > 0 ? Double(progress.bytesRead) / Double(totalBytes) : nil,
                        "\(progress.recordsRead) records read, \(progress.recordsApplied) applied, \(progress.recordsFailed) failed, \(progress.errors) errors")
                    return maxErrors.map { progress.errors < $0 } ?? true
                })
            terminal.clearProgress()
        } catch let error as any UserFacingError where !error.isServerFailure {
            terminal.clearProgress()
            terminal.line(error.userMessage)
            throw ExitCode(2)
        }
        for line in summary.log { print(line) }
        let p = summary.batch.progress
        if let maxErrors, summary.batch.state == .cancelled, p.errors >= maxErrors {
            print("Stopped after \(p.errors) errors (--max-errors \(maxErrors)); what was committed before stays.")
        }
        if let results { try await writeResults(of: summary.batch.id, store: directory.store, to: results) }
        print(
            "\(summary.batch.state.rawValue): \(p.recordsRead) records read, \(p.recordsApplied) applied, \(p.recordsFailed) failed, \(p.recordsUnchanged) unchanged, \(p.errors) errors (batch \(summary.batch.id))"
        )
        let exit = ImportExitStatus.of(state: summary.batch.state.rawValue, recordsFailed: p.recordsFailed, errors: p.errors)
        if exit != 0 { throw ExitCode(exit) }
    }

    /// Copies the results page by page: a million of them are never held at once.
    private func writeResults(of id: BatchID, store: any BatchStore, to path: String) async throws {
        guard FileManager().createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ValidationFailure("Cannot write the results file \(path)")
        }
        defer { try? handle.close() }
        for try await page in store.resultPages(of: id, pageSize: 10_000) {
            try handle.write(contentsOf: Data(page.map { $0 + "\n" }.joined().utf8))
        }
    }
}
