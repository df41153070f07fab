import Foundation
import IntakeApp
import IntakeCore
import IntakePostgres
import IntakeRunner
import IntakeSQLite
import IntakeStore

/// Where a command keeps its state: a data directory (`intake.sqlite` in WAL mode and the `blobs/`
/// folder), or with `--database` a PostgreSQL database that holds everything, blobs included.
struct Storage {
    let store: any BatchStore
    let blobs: any BlobStorage
    /// Set for a data directory (SQLite's own checks, the server lock, partial uploads on disk).
    let directory: DataDirectory?
    /// Set for PostgreSQL.
    let postgres: PostgresBatchStore?
    /// For messages: the directory's path or the database URL without its password.
    let description: String

    static func open(_ options: DataOptions, lease: JobLease = JobLease()) async throws -> Storage {
        guard let url = options.database, !url.isEmpty else {
            let directory = try DataDirectory(path: options.data, lease: lease)
            return Storage(store: directory.store, blobs: directory.blobs, directory: directory, postgres: nil, description: directory.path)
        }
        let location: PostgresLocation
        do {
            location = try PostgresLocation(url: url)
        } catch {
            throw ValidationFailure("\(error)")
        }
        do {
            let database = try PostgresDatabase(location: location, poolSize: options.poolSize)
            let store = try await PostgresBatchStore(database: database, lease: lease)
            return Storage(store: store, blobs: PostgresBlobStorage(database: database), directory: nil, postgres: store, description: "\(location)")
        } catch let error as SchemaTooNew {
            throw ValidationFailure(error.description)
        } catch {
            throw ValidationFailure("Cannot open the database \(location): \(error)")
        }
    }

    /// The application core over this storage with the standard schema, for commands that do not
    /// import (key management).
    func service() -> ImportService {
        ImportService(environment: ImportEnvironment(store: store, blobs: blobs, models: ModelRegistry(schema: StandardSchema.make())))
    }

    func environment(schemaFiles: [String]) async throws -> ImportEnvironment {
        let schema = try DataDirectory.schema(files: schemaFiles)
        try await store.ensureListObjects(schema.listObjects, now: Date())
        return ImportEnvironment(store: store, blobs: blobs, models: ModelRegistry(schema: schema))
    }
}

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
        } catch let error as SchemaTooNew {
            throw ValidationFailure(error.description)
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

}

/// A start-up problem reported to the user as one line on stderr.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
