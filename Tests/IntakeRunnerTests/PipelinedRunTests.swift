import Foundation
import GRDB
import IntakeApp
import IntakeCore
import IntakeSQLite
import IntakeStore
import IntakeTesting
import Logging
import Testing

@testable import IntakeRunner

/// Runs whose store writes go through the writer thread, against a real SQLite file.
@Suite struct PipelinedRunTests {
    struct Setup {
        var directory: URL
        var store: SQLiteBatchStore
        var environment: ImportEnvironment
        var databasePath: String

        /// With `failSave`, the run's store is a `FailingStore` around the SQLite one.
        init(failSave: (@Sendable ([ObjectValue]) -> Bool)? = nil) throws {
            directory = FileManager().temporaryDirectory.appendingPathComponent("intake-pipe-\(UUID().uuidString)")
            try FileManager().createDirectory(at: directory, withIntermediateDirectories: true)
            databasePath = directory.appendingPathComponent("intake.sqlite").path
            let sqlite = try SQLiteBatchStore(path: databasePath)
            store = sqlite
            var runStore: any BatchStore = sqlite
            if let failSave { runStore = FailingStore(sqlite, failSave: failSave) }
            environment = ImportEnvironment(
                store: runStore, blobs: try LocalBlobStorage(root: directory.appendingPathComponent("blobs")),
                models: ModelRegistry(schema: StandardSchema.make()))
        }

        func write(_ name: String, _ text: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }

        func run(_ control: String, _ records: [String]) async throws -> DirectRun.Summary {
            let controlPath = try write("control-\(UUID().uuidString).json", control)
            let data = try write("data-\(UUID().uuidString).json", "[" + records.joined(separator: ",\n") + "]")
            return try await DirectRun.run(
                environment: environment, controlPath: controlPath, files: [("data0", data)],
                dryRun: false, logger: Logger(label: "test"))
        }

        func allObjects() async throws -> [ObjectRecord] {
            try await store.objects(types: nil, title: nil, after: nil, limit: 100_000)
        }
    }

    static let createControl = #"""
        {"dataImportControlFileVersion":0,"model":"haplo:person","files":{"data0":{"read":"json"}},
         "instructions":[{"action":"new","destination":"profile"},
          {"source":"last","destination":"value:person-name","name":"last"},
          {"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"}]}
        """#

    @Test func aStoreFailureKeepsWholeChunksOnly() async throws {
        // A store failure in the middle of the third chunk: saving the object titled "Boom".
        let setup = try Setup(failSave: { values in
            values.contains { $0.attribute == StandardSchema.titleAttribute && $0.value.displayText == "Boom" }
        })
        defer { try? FileManager().removeItem(at: setup.directory) }
        let records = (0..<5000).map { #"{"last":"\#($0 == 4500 ? "Boom" : "P\($0)")"}"# }
        let summary = try await setup.run(Self.createControl, records)

        // Chunks end after 2000 records or half a second, whichever comes first: what is stored is
        // the whole chunks before the one with record 4500, and the counts say exactly that.
        let stored = summary.batch.progress.recordsRead
        #expect(summary.batch.state == .error)
        #expect(stored > 0 && stored <= 4500)
        #expect(summary.batch.progress.recordsApplied == stored)
        let objects = try await setup.allObjects()
        #expect(objects.count == stored)
        #expect(!objects.contains { $0.title == "Boom" })
        #expect(objects.map(\.title) == (0..<stored).map { "P\($0)" })
        #expect(Set(objects.map(\.ref)).count == stored)
        #expect(summary.log.first?.hasPrefix("START: ") == true)
        // The operator reads what happened in words; the database's own text (and SQL) stays in the server log.
        #expect(summary.log.contains { $0.hasPrefix("EXCEPTION: Error during import: the store could not save the last chunk of records") })
        #expect(!summary.log.contains { $0.contains("injected") })
        #expect(summary.log.last?.hasPrefix("END: ") == true)
        #expect(try await setup.store.results(of: summary.batch.id).count == stored)
    }

    /// The well-formedness check runs beside the import; until it passes nothing is committed, so a
    /// file that is malformed near its end leaves nothing behind, however much was transformed.
    @Test(arguments: [20_000, 3])
    func aMalformedFileImportsNothing(records count: Int) async throws {
        let setup = try Setup()
        defer { try? FileManager().removeItem(at: setup.directory) }
        let controlPath = try setup.write("control.json", Self.createControl)
        let text = "[" + (0..<count).map { #"{"last":"P\#($0)"}"# }.joined(separator: ",\n") + ",\n{\"last\": nope}]"
        let data = try setup.write("data.json", text)
        let summary = try await DirectRun.run(
            environment: setup.environment, controlPath: controlPath,
            files: [("data0", data)], dryRun: false, logger: Logger(label: "test"))
        #expect(summary.batch.state == .error)
        #expect(summary.batch.progress.recordsRead == 0)
        #expect(try await setup.allObjects().isEmpty)
        #expect(try await setup.store.results(of: summary.batch.id).isEmpty)
        #expect(summary.log.count == 3)
        #expect(summary.log.first?.hasPrefix("START: ") == true)
        #expect(summary.log.dropFirst().first?.hasPrefix("EXCEPTION: Error during import: ") == true)
        #expect(summary.log.dropFirst().first?.hasSuffix("File: data0, line: \(count + 1)") == true)
        #expect(summary.log.last?.hasPrefix("END: ") == true)
    }

    @Test func loadsAfterCreatesSeeEveryEarlierWrite() async throws {
        let setup = try Setup()
        defer { try? FileManager().removeItem(at: setup.directory) }
        let count = 5000
        let created = try await setup.run(Self.createControl, (0..<count).map { #"{"last":"P\#($0)"}"# })
        #expect(created.batch.progress.recordsApplied == count)
        let refs = try await setup.allObjects().map(\.ref)
        #expect(refs.count == count)

        // Loads make the run read the store on every record: the first chunk waits for the writer at
        // each one, the next ones run in direct transactions. New objects in between get fresh refs.
        let update = #"""
            {"dataImportControlFileVersion":0,"model":"haplo:person","files":{"data0":{"read":"json"}},
             "instructions":[{"source":"ref","destination":"load:by-ref","name":"ref","filters":["haplo:string-to-ref"]},
              {"action":"load","destination":"profile","using":"load:by-ref","otherwise":[{"action":"new","destination":"profile"}]},
              {"source":"last","destination":"value:person-name","name":"last"},
              {"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"},
              {"source":"job","destination":"profile","name":"std:attribute:job-title"}]}
            """#
        var records: [String] = []
        for (i, ref) in refs.enumerated() {
            records.append(#"{"ref":"\#(ref.text)","last":"P\#(i)","job":"Job \#(i)"}"#)
            if i % 1000 == 0 { records.append(#"{"last":"New\#(i)","job":"New"}"#) }
        }
        let updated = try await setup.run(update, records)
        #expect(updated.batch.state == .complete)
        #expect(updated.batch.progress.recordsApplied == records.count)
        let objects = try await setup.allObjects()
        #expect(objects.count == count + 5)
        #expect(Set(objects.map(\.ref)).count == count + 5)
        #expect(objects.filter { $0.version == 2 }.count == count)
        #expect(objects.filter { $0.title.hasPrefix("New") }.allSatisfy { $0.version == 1 })
        #expect(objects.allSatisfy { object in object.values.contains { $0.attribute == "std:attribute:job-title" } })
    }
}
