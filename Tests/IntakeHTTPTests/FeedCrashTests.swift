import Foundation
import GRDB
import IntakeCore
import Testing

/// SIGKILL during a feed's night: while its records are applied, after it was held, and while
/// its leavers are applied after approval. Afterwards every record and every leaver was applied
/// exactly once: each object has exactly the versions it should, each key the state it should.
/// CI runs 3 kills; `INTAKE_CRASH_KILLS` and `INTAKE_CRASH_RECORDS` run longer versions.
@Suite(.serialized) struct FeedCrashTests {
    static let control = #"""
        {"dataImportControlFileVersion":0,"model":"haplo:person","files":{"people":{"read":"json"}},
         "feed":{"name":"crash-feed","key":"id","snapshot":true,
                 "leavers":[{"action":"set-value","destination":"profile","name":"dc:attribute:type","value":"std:type:person:past"}]},
         "instructions":[
          {"source":"id","destination":"load:by-ref","name":"ref","filters":["haplo:to-lower-case","haplo:username-to-ref"]},
          {"action":"load","destination":"profile","using":"load:by-ref","otherwise":[{"action":"new","destination":"profile"}]},
          {"action":"set-value","destination":"profile","name":"dc:attribute:type","value":"std:type:person:staff"},
          {"source":"first","destination":"value:person-name","name":"first"},
          {"source":"last","destination":"value:person-name","name":"last"},
          {"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"},
          {"source":"email","destination":"profile","name":"std:attribute:email"},
          {"source":"id","destination":"profile","name":"std:attribute:username","filters":["haplo:to-lower-case"]}]}
        """#

    /// People 0..<count; `domain` changes everyone's e-mail address.
    static func night(_ count: Int, domain: String) throws -> URL {
        try Fixtures.write(
            "["
                + (0..<count).map { #"{"id":"P\#($0)","first":"First\#($0)","last":"Last\#($0)","email":"p\#($0)@\#(domain)"}"# }
                .joined(separator: ",\n") + "]")
    }

    @Test func killsDuringRecordsHoldAndLeaversApplyEachRecordAndLeaverOnce() async throws {
        let kills = Int(CrashTests.environment["INTAKE_CRASH_KILLS"] ?? "") ?? 3
        let records = Int(CrashTests.environment["INTAKE_CRASH_RECORDS"] ?? "") ?? 6_000
        var random = SeededRandom(seed: CrashTests.seed)
        print("feed crash test: \(kills) kills per phase, \(records) records, seed \(CrashTests.seed)")
        let data = try TestServer.makeDirectory()
        let arguments = ["--max-crashes", "0"]
        var server = try await ServerProcess.start(data: data, arguments: arguments)
        let key = try #require(server.apiKey)
        var client = BatchClient(RemoteServer(port: server.port, apiKey: key))
        let control = try Fixtures.write(Self.control)

        let first = try await client.prepareBatch(control: control, files: [("people", try Self.night(records, domain: "one.example.org"))])
        _ = try await client.schedule(batch: first)
        #expect(try await client.waitForBatch(first, timeout: 600)["state"] == .string("complete"))

        // Night two: the first half stays with a new address, the second half leaves (beyond the
        // default 20%: the night is held).
        let second = try await client.prepareBatch(
            control: control, files: [("people", try Self.night(records / 2, domain: "two.example.org"))])
        _ = try await client.schedule(batch: second)
        func restart(_ what: String, _ kill: Int) async throws {
            let delay = Double.random(in: 0.05...1.0, using: &random)
            try await Task.sleep(for: .seconds(delay))
            try await server.kill()
            print("kill \(kill + 1) \(what), after \(delay) s")
            server = try await ServerProcess.start(data: data, arguments: arguments)
            client = BatchClient(RemoteServer(port: server.port, apiKey: key))
        }
        func state() async throws -> String {
            try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/status?batch=\(second)").body)["state"]?.stringValue ?? ""
        }
        for kill in 0..<kills where try await state() != "held" { try await restart("while records are applied", kill) }
        #expect(try await client.waitForBatch(second, timeout: 600)["state"] == .string("held"))
        #expect(try await client.post("approve", ["batch": second]).body == "APPROVED")
        for kill in 0..<kills where try await state() != "complete" {
            // The approval itself survives the kill: the batch is scheduled again with it.
            try await restart("while leavers are applied", kill)
        }
        let status = try await client.waitForBatch(second, timeout: 600)
        #expect(status["state"] == .string("complete"), "\(status)")
        #expect(status["progress"]?["recordsLeft"] == .number(Double(records - records / 2)))
        let results = try await client.results(second)
        #expect(results.filter { $0["leaver"] == .bool(true) }.count == records - records / 2)
        #expect(results.filter { $0["leaver"] == nil }.count == records / 2)
        try await server.terminate()

        let database = data.appendingPathComponent("intake.sqlite").path
        let (integrity, counts) = try await DatabaseQueue(path: database).read { db -> ([String], [Int?]) in
            (
                try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                [
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM objects"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM objects WHERE type = 'std:type:person:past'"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM object_versions"),
                    try Int.fetchOne(db, sql: "SELECT max(version) FROM objects"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM feed_keys WHERE active"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM feed_keys WHERE NOT active"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM feed_seen")
                ]
            )
        }
        #expect(integrity == ["ok"])
        // Every object has two versions: the first night's, and the second night's new address
        // or its leaver's new type, each applied once.
        #expect(counts == [records, records - records / 2, 2 * records, 2, records / 2, records - records / 2, 0])
    }
}
