import ArgumentParser
import Foundation
import IntakeApp

struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Remove the uploaded files, logs and results of batches that finished long ago.",
        discussion: """
            Batches that finished (complete, dry run, error, cancelled or rolled back) more than DAYS days ago lose \
            their log, their per-record results and their data files; the objects they saved, their \
            history and the batches' own records (state, counts, file names and digests) stay, as \
            do control files. A data file is kept while any other batch uses the same bytes, and \
            files written in the last hour are never removed. Stored files nothing refers to any more (files of refused admin forms, uploads of batches never created) go as well. Safe to run while a server uses the \
            same data directory, for example nightly from cron.

            Examples:
              intake purge --older-than 90 --dry-run
              intake purge --older-than 90 --data /var/lib/intake/data
            """)

    @OptionGroup var data: DataOptions

    @Option(help: "Purge batches that finished more than this many days ago.") var olderThan: Int

    @Flag(help: "Say what would be removed, and remove nothing.") var dryRun = false

    func validate() throws {
        guard olderThan >= 0 else { throw ValidationError("--older-than must be 0 or more days.") }
    }

    func run() async throws {
        let directory = try await Storage.open(data)
        let cutoff = Date().addingTimeInterval(-Double(olderThan) * 86_400)
        let report = try await directory.service().purge(finishedBefore: cutoff, dryRun: dryRun)
        func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
        print(
            "\(dryRun ? "Would purge" : "Purged") \(report.batches) batches: \(report.logLines) log lines, \(report.resultLines) results, "
                + "\(report.files) files (\(megabytes(report.bytes))); \(report.unreferencedFiles) unreferenced files (\(megabytes(report.unreferencedBytes)))"
        )
    }
}
