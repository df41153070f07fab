import Foundation
import IntakeCore
import IntakeRunner
import IntakeSQLite
import IntakeStore

/// An opened data directory: `intake.sqlite` (WAL) and the `blobs/` folder.
struct DataDirectory {
    let path: String
    let store: SQLiteBatchStore
    let blobs: BlobStore
    let isNew: Bool

    init(path: String) throws {
        let fm = FileManager()
        self.path = path
        let databasePath = (path as NSString).appendingPathComponent("intake.sqlite")
        isNew = !fm.fileExists(atPath: databasePath)
        try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        store = try SQLiteBatchStore(path: databasePath)
        blobs = try BlobStore(root: URL(fileURLWithPath: path).appendingPathComponent("blobs"))
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
