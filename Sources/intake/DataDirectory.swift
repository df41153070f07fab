import Foundation
import IntakeApp
import IntakeCore
import IntakeRunner
import IntakeSQLite
import IntakeStore

/// An opened data directory: `intake.sqlite` (WAL) and the `blobs/` folder.
struct DataDirectory {
    let path: String
    let store: SQLiteBatchStore
    let blobs: LocalBlobStorage
    let isNew: Bool

    init(path: String, lease: JobLease = JobLease()) throws {
        self.path = path
        let databasePath = (path as NSString).appendingPathComponent("intake.sqlite")
        isNew = !FileManager().fileExists(atPath: databasePath)
        try Self.prepare(path: path)
        if isNew {
            // A command run from the wrong folder would otherwise quietly start an empty store (and
            // make a key the server never sees).
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            FileHandle.standardError.write(Data("Created a new data directory at \(absolute)\n".utf8))
        }
        do {
            store = try SQLiteBatchStore(path: databasePath, lease: lease)
        } catch {
            throw ValidationFailure("Cannot open the database \(databasePath): \(error). If it is damaged, restore it from a backup.")
        }
        blobs = try LocalBlobStorage(root: URL(fileURLWithPath: path).appendingPathComponent("blobs"))
    }

    /// Creates the directory if needed, readable by its owner only: it holds people's records.
    /// New files get mode 0600 (the process umask is set at start-up); an existing directory made by
    /// an earlier version with 0755 is closed down, which protects every file inside it.
    static func prepare(path: String) throws {
        try FileManager().createDirectory(
            atPath: path, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        guard chmod(path, 0o700) == 0 else {
            throw ValidationFailure("Cannot make the data directory \(path) private (chmod 0700): \(String(cString: strerror(errno)))")
        }
    }

    /// The standard schema plus the given schema files.
    static func schema(files: [String]) throws -> Schema {
        var schema = StandardSchema.make()
        for file in files {
            guard let data = FileManager().contents(atPath: file) else {
                throw ValidationFailure("Cannot read schema file \(file)")
            }
            let json: JSONValue
            do {
                json = try JSONParser.parse(Array(data))
            } catch {
                throw ValidationFailure("Schema file \(file) is not JSON: \(error.message)")
            }
            do {
                try SchemaFile.apply(json, named: file, to: &schema)
            } catch {
                throw ValidationFailure(error.message)
            }
        }
        return schema
    }

    /// The application core over this directory with the standard schema, for commands that do not
    /// import (key management).
    func service() -> ImportService {
        ImportService(environment: ImportEnvironment(store: store, blobs: blobs, models: ModelRegistry(schema: StandardSchema.make())))
    }

    func environment(schemaFiles: [String]) async throws -> ImportEnvironment {
        let schema = try Self.schema(files: schemaFiles)
        try await store.ensureListObjects(schema.listObjects, now: Date())
        return ImportEnvironment(store: store, blobs: blobs, models: ModelRegistry(schema: schema))
    }
}

/// A start-up problem reported to the user as one line on stderr.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
