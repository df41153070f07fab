import Foundation
import GRDB
import IntakeCore
import IntakePostgres
import IntakeStore
import IntakeTesting
import Testing

@testable import IntakeSQLite

/// A batch interrupted mid-run resumes at the next start, and every record is applied exactly once.
@Suite(.serialized) struct RestartTests {
    static let recordCount = 20_000

    static func peopleFile() throws -> URL {
        var text = "["
        for i in 0..<recordCount {
            if i > 0 { text += ",\n" }
            text += #"{"id":"P\#(i)","first":"First\#(i)","last":"Last\#(i)","email":"p\#(i)@example.org"}"#
        }
        return try Fixtures.write(text + "]")
    }

    static let control = #"""
        {"dataImportControlFileVersion":0,"model":"haplo:person","files":{"people":{"read":"json"}},
         "instructions":[
          {"action":"new","destination":"profile"},
          {"source":"first","destination":"value:person-name","name":"first"},
          {"source":"last","destination":"value:person-name","name":"last"},
          {"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"},
          {"source":"email","destination":"profile","name":"std:attribute:email"},
          {"source":"id","destination":"profile","name":"std:attribute:username","filters":["haplo:to-lower-case"]},
          {"action":"if-value-one-of","source":"id","values":["P7","P19999"],"then":[{"action":"log-error","message":"seen"}]}]}
        """#

    /// Checks the store of a server's data directory (SQLite, or the PostgreSQL database standing
    /// for it): one object per record, none saved twice, the log as if the run had never stopped.
    static func verifyExactlyOnce(directory: URL, batch: String) async throws {
        guard TestPostgres.isSelectedBackend else {
            return try verifyExactlyOnce(databasePath: directory.appendingPathComponent("intake.sqlite").path)
        }
        let (store, _) = try await TestServer.openStorage(directory)
        let postgres = try #require(store as? PostgresBatchStore)
        let counts = try await postgres.objectCounts(writtenBy: BatchID(rawValue: batch))
        #expect(counts.objects == recordCount && counts.usernames == recordCount && counts.versions == recordCount && counts.maxVersion == 1)
        let log = try await store.log(of: BatchID(rawValue: batch)).filter { !$0.hasPrefix("TAKEN OVER: ") }
        #expect(log.filter { $0.hasPrefix("START: ") }.count == 1)
        #expect(log.filter { $0.hasPrefix("END: ") }.count == 1)
        #expect(Array(log.dropFirst().dropLast()) == ["seen (record 7)", "seen (record 19999)"])
    }

    /// Checks the SQLite database directly: one object per record, none saved twice.
    static func verifyExactlyOnce(databasePath: String, records: Int = recordCount) throws {
        let db = try DatabaseQueue(path: databasePath)
        try db.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM objects") == records)
            #expect(try Int.fetchOne(db, sql: "SELECT count(DISTINCT username) FROM objects") == records)
            #expect(try Int.fetchOne(db, sql: "SELECT max(version) FROM objects") == 1)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM object_versions") == records)
            // A run taken over from a killed process says so in the log (TAKEN OVER: …); the rest of
            // the log is as if the run had never stopped.
            let log = try String.fetchAll(db, sql: "SELECT line FROM batch_log ORDER BY seq").filter { !$0.hasPrefix("TAKEN OVER: ") }
            #expect(log.filter { $0.hasPrefix("START: ") }.count == 1)
            #expect(log.filter { $0.hasPrefix("END: ") }.count == 1)
            #expect(Array(log.dropFirst().dropLast()) == ["seen (record 7)", "seen (record 19999)"])
        }
    }

    private func waitUntilRunning(_ client: BatchClient, _ batch: String) async throws -> Int {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let status = try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)").body)
            if case .number(let read)? = status["progress"]?["recordsRead"], read >= 1000 {
                return Int(read)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the batch never got going")
        return 0
    }

    @Test func gracefulStopResumesAtTheNextRecord() async throws {
        let server = try await TestServer.start()
        let client = BatchClient(server)
        let batch = try await client.prepareBatch(control: try Fixtures.write(Self.control), files: [("people", try Self.peopleFile())])
        _ = try await client.schedule(batch: batch)
        _ = try await waitUntilRunning(client, batch)
        await server.stop()

        let stopped = try #require(try await server.store.batch(.init(rawValue: batch)))
        #expect(stopped.state == .running)
        #expect(stopped.progress.recordsRead > 0)
        #expect(stopped.progress.recordsRead < Self.recordCount)

        try await TestServer.start(directory: server.directory, apiKey: server.apiKey).scoped { restarted in
            let status = try await BatchClient(restarted).waitForBatch(batch)
            #expect(status["state"] == .string("complete"))
            #expect(status["progress"]?["recordsRead"] == .number(Double(Self.recordCount)))
            #expect(status["progress"]?["recordsApplied"] == .number(Double(Self.recordCount)))
            #expect(status["errors"] == .number(2))
            try await Self.verifyExactlyOnce(directory: server.directory, batch: batch)
        }
    }

    @Test func killedServerResumesWithoutApplyingAnyRecordTwice() async throws {
        let data = try TestServer.makeDirectory()
        let first = try await ServerProcess.start(data: data)
        let key = try #require(first.apiKey)
        let client = BatchClient(RemoteServer(port: first.port, apiKey: key))
        let batch = try await client.prepareBatch(control: try Fixtures.write(Self.control), files: [("people", try Self.peopleFile())])
        _ = try await client.schedule(batch: batch)
        let readBeforeKill = try await waitUntilRunning(client, batch)
        try await first.kill()
        #expect(readBeforeKill < Self.recordCount)

        let second = try await ServerProcess.start(data: data)
        #expect(second.apiKey == nil)  // credentials are printed on the first start only
        let status = try await BatchClient(RemoteServer(port: second.port, apiKey: key)).waitForBatch(batch)
        #expect(status["state"] == .string("complete"))
        #expect(status["progress"]?["recordsApplied"] == .number(Double(Self.recordCount)))
        try await second.terminate()
        try await Self.verifyExactlyOnce(directory: data, batch: batch)
    }
}
