import Foundation
import IntakeApp
import IntakeCore
import IntakeRunner
import IntakeSQLite
import IntakeStore
import Logging
import Testing

/// A record processor registered in code joins two files before the engine sees any record.
@Suite struct RecordProcessorTests {
    /// Joins `emails` (id → email) onto `people` by `id`, and yields only the people.
    struct JoinEmails: RecordProcessor {
        func process(_ inputs: [NamedReader]) throws(ReaderError) -> [NamedReader] {
            var emails: [String: JSONValue] = [:]
            var people: [SourceRecord] = []
            for input in inputs {
                var reader = input.reader
                while let record = try reader.next() {
                    if input.fileName == "emails" {
                        if let id = record.value["id"]?.stringValue { emails[id] = record.value["email"] }
                    } else {
                        people.append(record)
                    }
                }
            }
            let joined = people.map { record -> SourceRecord in
                guard case .object(var o) = record.value, let id = o["id"]?.stringValue else { return record }
                o["email"] = emails[id]
                return SourceRecord(value: .object(o), line: record.line)
            }
            return [NamedReader(fileName: "people", reader: ArrayRecordReader(joined))]
        }
    }

    @Test func joinedRecordsAreImported() async throws {
        let directory = FileManager().temporaryDirectory.appendingPathComponent("intake-rp-\(UUID().uuidString)")
        try FileManager().createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteBatchStore.inMemory()
        let environment = ImportEnvironment(
            store: store, blobs: try LocalBlobStorage(root: directory.appendingPathComponent("blobs")),
            models: ModelRegistry(schema: StandardSchema.make()),
            recordProcessors: [RecordProcessorDescriptor(name: "test:join-emails") { JoinEmails() }])
        func write(_ name: String, _ text: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let control = try write(
            "control.json",
            #"""
            {"dataImportControlFileVersion":0,"model":"haplo:person","recordProcessor":"test:join-emails",
             "files":{"people":{"read":"json"},"emails":{"read":"csv"}},
             "instructions":[{"action":"new","destination":"profile"},
              {"source":"last","destination":"value:person-name","name":"last"},
              {"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"},
              {"source":"email","destination":"profile","name":"std:attribute:email"}]}
            """#)
        let people = try write("people.json", #"[{"id":"1","last":"Ng"},{"id":"2","last":"Roe"}]"#)
        let emails = try write("emails.csv", "id,email\n2,roe@x.org\n1,ng@x.org\n")
        let summary = try await DirectRun.run(
            environment: environment, controlPath: control,
            files: [("people", people), ("emails", emails)], dryRun: false,
            logger: Logger(label: "test"))
        #expect(summary.batch.state == .complete)
        #expect(summary.batch.progress.recordsApplied == 2)
        let objects = try await store.objects(types: nil, title: nil, after: nil, limit: 10)
        #expect(objects.map(\.title) == ["Ng", "Roe"])
        #expect(
            objects.map { $0.values.first { $0.attribute == "std:attribute:email" }?.value } == [
                .text(.emailAddress, "ng@x.org"), .text(.emailAddress, "roe@x.org")
            ])

        let unknown = try write(
            "unknown.json",
            #"""
            {"dataImportControlFileVersion":0,"model":"haplo:person","recordProcessor":"test:nope","files":{},"instructions":[]}
            """#)
        await #expect(throws: BatchError.invalidControlFile(["Unknown record processor specified in recordProcessor property: test:nope"])) {
            _ = try await DirectRun.run(environment: environment, controlPath: unknown, files: [], dryRun: false, logger: Logger(label: "test"))
        }
    }
}
