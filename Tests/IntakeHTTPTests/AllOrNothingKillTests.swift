import Foundation
import IntakeCore
import Testing

/// SIGKILL in the middle of an all-or-nothing batch: whenever anyone looks — right after each
/// restart, and again and again while the batch runs — the store holds none of its objects or all
/// of them, never a part; at the end all of them, each saved once.
/// CI runs 3 kills; `INTAKE_CRASH_KILLS` and `INTAKE_CRASH_RECORDS` run longer versions.
@Suite(.serialized) struct AllOrNothingKillTests {
    /// How many people the store lists, page by page.
    static func objectCount(_ client: BatchClient) async throws -> Int {
        var (count, cursor) = (0, "")
        while true {
            let page = try JSONParser.parse(
                try await client.get("/api/v1/objects?type=std:type:person&limit=1000" + (cursor.isEmpty ? "" : "&cursor=\(cursor)")).body)
            count += page["objects"]?.arrayValue?.count ?? 0
            guard let next = page["next"]?.stringValue else { return count }
            cursor = next
        }
    }

    @Test func killsDuringAnAllOrNothingBatchLeaveNothingOrEverything() async throws {
        let kills = Int(CrashTests.environment["INTAKE_CRASH_KILLS"] ?? "") ?? 3
        let records = Int(CrashTests.environment["INTAKE_CRASH_RECORDS"] ?? "") ?? 6_000
        var random = SeededRandom(seed: CrashTests.seed)
        print("all-or-nothing crash test: \(kills) kills, \(records) records, seed \(CrashTests.seed)")
        let data = try TestServer.makeDirectory()
        let arguments = ["--max-crashes", "0"]
        var server = try await ServerProcess.start(data: data, arguments: arguments)
        let key = try #require(server.apiKey)
        var client = BatchClient(RemoteServer(port: server.port, apiKey: key))
        let people = try Fixtures.write(
            "["
                + (0..<records).map { #"{"first":"First\#($0)","last":"Last\#($0)","email":"p\#($0)@example.org"}"# }
                .joined(separator: ",\n") + "]")
        let batch = try await client.prepareBatch(
            control: try ErrorPolicyTests.control(#"{"mode": "all-or-nothing"}"#), files: [("people", people)])
        _ = try await client.schedule(batch: batch)

        var seen: [Int] = []
        func look() async throws {
            let count = try await Self.objectCount(client)
            seen.append(count)
            #expect(count == 0 || count == records, "part of an all-or-nothing batch is visible: \(count) of \(records) objects")
        }
        func state() async throws -> String {
            try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)").body)["state"]?.stringValue ?? ""
        }
        var killedWhileRunning = 0
        for kill in 0..<kills where try await state() != "complete" {
            let delay = Double.random(in: 0.2...2.0, using: &random)
            try await Task.sleep(for: .seconds(delay))
            if try await state() == "running" { killedWhileRunning += 1 }
            try await server.kill()
            print("kill \(kill + 1) after \(delay) s")
            server = try await ServerProcess.start(data: data, arguments: arguments)
            client = BatchClient(RemoteServer(port: server.port, apiKey: key))
            try await look()
        }
        while ["running", "scheduled"].contains(try await state()) {
            try await look()
            try await Task.sleep(for: .milliseconds(200))
        }
        let status = try await client.waitForBatch(batch, timeout: 600)
        #expect(status["state"] == .string("complete"), "\(status)")
        #expect(status["progress"]?["recordsApplied"] == .number(Double(records)))
        #expect(try await client.results(batch).count == records)
        try await look()
        #expect(seen.last == records)
        // The kills must have hit the run, or the test proves nothing.
        #expect(killedWhileRunning > 0, "no kill landed while the batch ran: \(seen)")
        // Every object has one version: nothing was saved twice.
        let objects = try JSONParser.parse(try await client.get("/api/v1/objects?type=std:type:person&limit=5").body)
        for object in objects["objects"]?.arrayValue ?? [] {
            let ref = try #require(object["ref"]?.stringValue)
            let history = try JSONParser.parse(try await client.get("/api/v1/objects/\(ref)/history").body)
            #expect(history["versions"]?.arrayValue?.count == 1)
        }
        try await server.terminate()
    }
}
