import ArgumentParser
import Foundation
import IntakeSQLite

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a data directory (database and stored files) to a new folder, consistently, while a server may use it.",
        discussion: """
            The database is copied with SQLite's online backup, so the copy is consistent even while \
            a server writes; then every stored file, each checked against its SHA-256 name. The copy \
            is private (files 0600, folders 0700) and checked after writing: SQLite's integrity_check \
            of the database and the SHA-256 of every file. Restore it with intake restore. A \
            PostgreSQL database holds everything: back it up with pg_dump (docs/cookbook.md).

            Example:
              intake backup --data /var/lib/intake --to /backup/intake-$(date +%F)
            """)

    @OptionGroup var data: DataOptions
    @Option(name: .customLong("to"), help: "A new or empty folder for the backup.") var target: String

    func run() async throws {
        if let database = data.database, !database.isEmpty {
            throw ValidationFailure(
                "intake backup copies a data directory; a PostgreSQL database holds everything, so back it up with pg_dump (docs/cookbook.md \"Backups\")")
        }
        guard FileManager().fileExists(atPath: (data.data as NSString).appendingPathComponent(DataDirectoryBackup.databaseName)) else {
            throw ValidationFailure("No data directory at \(data.data) (it has no \(DataDirectoryBackup.databaseName))")
        }
        let directory = try DataDirectory(path: data.data)
        let report: DataDirectoryBackup.Report
        do {
            report = try await DataDirectoryBackup.backup(store: directory.store, data: directory.path, to: target)
        } catch {
            throw ValidationFailure("The backup failed: \(error)")
        }
        print("Backed up \(data.data) to \(target): \(Self.describe(report)), all checked")
    }

    static func describe(_ report: DataDirectoryBackup.Report) -> String {
        func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
        return "the database (\(megabytes(report.databaseBytes))) and \(report.files) stored files (\(megabytes(report.fileBytes)))"
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Make a new data directory from a backup made by intake backup.",
        discussion: """
            The backup is checked first (SQLite's integrity_check, every stored file's SHA-256) and \
            nothing is written if it is damaged; the data directory must be new or empty, and is \
            checked again once written. Files are 0600 and folders 0700. Start the server on it \
            afterwards.

            Example:
              intake restore --from /backup/intake-2026-12-01 \\
                  --data /var/lib/intake-restored
            """)

    @Option(name: .customLong("from"), help: "The backup folder.") var source: String
    @Option(help: "A new or empty folder for the data directory.") var data: String

    func run() async throws {
        do {
            let report = try await DataDirectoryBackup.restore(from: source, to: data)
            print("Restored \(source) to \(data): \(BackupCommand.describe(report)), all checked")
        } catch {
            throw ValidationFailure("\(error)")
        }
    }
}
