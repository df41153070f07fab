import Foundation
import GRDB
import IntakeStore

/// Backups of a data directory (docs/cookbook.md "Backups"): the database through SQLite's online
/// backup, consistent while a server writes to it, then every stored file, each hashed as it is
/// copied. Everything written is private (files 0600, folders 0700) and checked after writing: the
/// database with a full `integrity_check`, each file's SHA-256 against its name.
package enum DataDirectoryBackup {
    package static let databaseName = "intake.sqlite"
    package static let blobFolder = "blobs"

    /// What a backup or restore wrote.
    package struct Report: Sendable {
        package var databaseBytes: Int64
        package var files: Int
        package var fileBytes: Int64
    }

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
        package init(_ description: String) { self.description = description }
    }

    /// Copies the data directory `data` (used by `store`) into the new or empty folder `target`.
    package static func backup(store: SQLiteBatchStore, data: String, to target: String) async throws -> Report {
        try prepareEmpty(target)
        let database = (target as NSString).appendingPathComponent(databaseName)
        try await offloaded {
            guard FileManager.default.createFile(atPath: database, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw Failure("Cannot write \(database)")
            }
            let destination = try DatabaseQueue(path: database)
            try store.writer.backup(to: destination)
            try destination.close()
        }
        let files = try await copyBlobs(
            from: (data as NSString).appendingPathComponent(blobFolder), to: (target as NSString).appendingPathComponent(blobFolder))
        try await verify(target)
        return Report(databaseBytes: try size(of: database), files: files.count, fileBytes: files.bytes)
    }

    /// Copies the backup `source` into the new or empty data directory `target`, checking the
    /// backup before and the copy after.
    package static func restore(from source: String, to target: String) async throws -> Report {
        let database = (source as NSString).appendingPathComponent(databaseName)
        guard FileManager.default.fileExists(atPath: database) else { throw Failure("\(source) is no backup of Intake: it has no \(databaseName)") }
        do {
            try await verify(source)
        } catch {
            throw Failure("The backup at \(source) is damaged, so nothing was restored: \(error)")
        }
        try prepareEmpty(target)
        let restored = (target as NSString).appendingPathComponent(databaseName)
        try await offloaded {
            // Checked by `verify` before and after; the copy itself needs no digest.
            _ = try BlobFileCopy.copy(URL(fileURLWithPath: database), to: URL(fileURLWithPath: restored), expected: nil)
        }
        let files = try await copyBlobs(
            from: (source as NSString).appendingPathComponent(blobFolder), to: (target as NSString).appendingPathComponent(blobFolder))
        try await verify(target)
        return Report(databaseBytes: try size(of: restored), files: files.count, fileBytes: files.bytes)
    }

    /// A new folder, or an empty one, made private.
    static func prepareEmpty(_ path: String) throws {
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: path), !entries.isEmpty {
            throw Failure("\(path) is not empty: give a new or empty folder")
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard chmod(path, 0o700) == 0 else { throw Failure("Cannot make \(path) private (chmod 0700): \(String(cString: strerror(errno)))") }
    }

    /// Copies every stored file under `source` (`xx/HEX`) to `target`, checking each.
    static func copyBlobs(from source: String, to target: String) async throws -> (count: Int, bytes: Int64) {
        try await offloaded {
            var count = 0
            var bytes: Int64 = 0
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for (digest, url) in try storedFiles(in: source) {
                bytes += try BlobFileCopy.copy(
                    url,
                    to: URL(fileURLWithPath: target).appendingPathComponent(url.deletingLastPathComponent().lastPathComponent)
                        .appendingPathComponent(url.lastPathComponent), expected: digest)
                count += 1
            }
            return (count, bytes)
        }
    }

    /// The stored files of a blob folder: files named by a SHA-256 in folders named by its first
    /// two digits (partial uploads and anything else are not stored files).
    static func storedFiles(in folder: String) throws -> [(Digest, URL)] {
        let root = URL(fileURLWithPath: folder)
        guard let prefixes = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var files: [(Digest, URL)] = []
        for prefix in prefixes.sorted() where prefix.count == 2 {
            for name in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(prefix).path).sorted() {
                if let digest = Digest(hex: name), name.hasPrefix(prefix) {
                    files.append((digest, root.appendingPathComponent(prefix).appendingPathComponent(name)))
                }
            }
        }
        return files
    }

    /// A full integrity check of the folder's database and every stored file's SHA-256.
    static func verify(_ folder: String) async throws {
        try await offloaded {
            var configuration = Configuration()
            configuration.readonly = true
            let database = try DatabaseQueue(path: (folder as NSString).appendingPathComponent(databaseName), configuration: configuration)
            let lines = try database.read { try String.fetchAll($0, sql: "PRAGMA integrity_check(5)") }
            try database.close()
            guard lines == ["ok"] else { throw Failure("its database failed SQLite's integrity check: \(lines.joined(separator: "; "))") }
            for (digest, url) in try storedFiles(in: (folder as NSString).appendingPathComponent(blobFolder)) {
                let found = try BlobFileCopy.digest(of: url)
                guard found == digest else { throw BlobDamaged(path: url.path, found: found) }
            }
        }
    }

    static func size(of path: String) throws -> Int64 {
        ((try FileManager.default.attributesOfItem(atPath: path))[.size] as? NSNumber)?.int64Value ?? 0
    }
}
