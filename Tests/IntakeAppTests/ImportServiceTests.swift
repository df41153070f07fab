import Foundation
import IntakeApp
import IntakeCore
import IntakeRunner
import IntakeSQLite
import IntakeStore
import Testing

/// The batch API's use cases called directly, as the HTTP API, the admin UI and the command line
/// call them: each refusal is a `BatchError` with the API's message, and a refused input leaves
/// nothing behind.
@Suite struct ImportServiceTests {
    private func service() throws -> ImportService {
        let directory = FileManager().temporaryDirectory.appendingPathComponent("intake-app-\(UUID().uuidString)")
        return ImportService(
            environment: ImportEnvironment(
                store: try SQLiteBatchStore.inMemory(), blobs: try LocalBlobStorage(root: directory.appendingPathComponent("blobs")),
                models: ModelRegistry(schema: StandardSchema.make())))
    }

    private func upload(_ text: String, to service: ImportService) throws -> any BlobUpload {
        let upload = try service.environment.blobs.makeUpload()
        try Array(text.utf8).withUnsafeBytes { try upload.write($0) }
        return upload
    }

    private func message(_ body: () async throws -> some Any) async -> String? {
        do {
            _ = try await body()
            return nil
        } catch let error as BatchError {
            return error.userMessage
        } catch {
            return "\(error)"
        }
    }

    static let control = #"""
        {"dataImportControlFileVersion": 0, "model": "haplo:person", "files": {"people": {"read": "json"}},
         "instructions": [{"action": "new", "destination": "profile"},
                          {"source": "name", "destination": "profile", "name": "dc:attribute:title"}]}
        """#

    @Test func aBatchIsMadeFilledAndScheduled() async throws {
        let service = try service()
        let digest = try await service.addControlFile(try upload(Self.control, to: service), comment: "people")
        let id = try await service.createBatch(control: digest.hex, comment: "night")
        _ = try await service.addFile(batch: id.rawValue, name: "people", upload: try upload(#"[{"name": "Ada"}]"#, to: service), filename: "p.json")
        try await service.schedule(batch: id.rawValue, mode: "dry-run", by: "test")
        let batch = try await service.batch(id.rawValue)
        #expect(batch.state == .scheduled && batch.dryRun && batch.files.map(\.name) == ["people"])
        // Scheduled: no more files, and not again.
        #expect(
            await message { try await service.addFile(batch: id.rawValue, name: "people", upload: try upload("[]", to: service), filename: nil) }
                == "Batch \(id.rawValue) is not in the 'uploading' state")
        #expect(
            await message { try await service.schedule(batch: id.rawValue, mode: nil, by: "test") } == "Batch \(id.rawValue) is not in the 'uploading' state")
        try await service.cancel(batch: id.rawValue)
        #expect(try await service.batch(id.rawValue).state == .cancelled)
        #expect(await message { try await service.cancel(batch: id.rawValue) } == "Batch \(id.rawValue) has already finished")
    }

    @Test func refusalsNameWhatIsWrongAndKeepNothing() async throws {
        let service = try service()
        #expect(await message { try await service.addControlFile(try upload("not json", to: service), comment: nil) } == "Uploaded file is not JSON")
        #expect(
            await message { try await service.addControlFile(try upload(#"{"dataImportControlFileVersion": 0}"#, to: service), comment: nil) }?
                .hasPrefix("Invalid control file:\n  ") == true)
        #expect(try await service.environment.store.controlFiles(limit: 10, offset: 0).isEmpty)
        #expect(await message { try await service.createBatch(control: nil, comment: nil) } == "Missing parameter: control")
        #expect(await message { try await service.createBatch(control: "abc", comment: nil) } == "Control file not found: abc")
        #expect(await message { try await service.batch("nope") } == "Batch not found: nope")

        let digest = try await service.addControlFile(try upload(Self.control, to: service), comment: nil)
        let id = try await service.createBatch(control: digest.hex, comment: nil)
        #expect(
            await message { try await service.addFile(batch: id.rawValue, name: "staff", upload: try upload("[]", to: service), filename: nil) }?
                .contains("staff") == true)
        #expect(try await service.batch(id.rawValue).files.isEmpty)
        #expect(await message { try await service.schedule(batch: id.rawValue, mode: "fast", by: "test") }?.contains("fast") == true)
        #expect(try await service.batch(id.rawValue).state == .uploading)
        let temporary = try FileManager().contentsOfDirectory(
            atPath: (service.environment.blobs as! LocalBlobStorage).root.appendingPathComponent("tmp").path)
        #expect(temporary.isEmpty, "refused uploads were discarded")
    }
}
