import Foundation
import IntakeCore
import Testing

/// The `errorPolicy` extension: a run stops once its errors go past the control file's limit, with a
/// `STOPPED:` line, in `error`, keeping what it committed before; wrong policies are refused on upload.
@Suite struct ErrorPolicyTests {
    /// People with a name, except every tenth (no name: "dc:attribute:title is not set"; the first
    /// time with a hint, a second error).
    static func people(_ count: Int) throws -> URL {
        let records = (0..<count).map { i in
            i % 10 == 9 ? #"{"email": "nobody\#(i)@example.ac.uk"}"# : #"{"first": "P\#(i)", "last": "L", "email": "p\#(i)@example.ac.uk"}"#
        }
        return try Fixtures.write("[" + records.joined(separator: ",\n") + "]")
    }

    static func control(_ policy: String) throws -> URL {
        try Fixtures.write(
            #"""
            {"dataImportControlFileVersion": 0, "model": "haplo:person", "files": {"people": {"read": "json"}},
             "errorPolicy": \#(policy),
             "instructions": [
                {"action": "new", "destination": "profile"},
                {"source": "first", "destination": "value:person-name", "name": "first"},
                {"source": "last", "destination": "value:person-name", "name": "last"},
                {"action": "field-structured", "structured": "value:person-name", "destination": "profile", "name": "dc:attribute:title"},
                {"source": "email", "destination": "profile", "name": "std:attribute:email"}]}
            """#)
    }

    static func run(_ client: BatchClient, policy: String, records: Int, dryRun: Bool = false) async throws -> (status: JSONValue, log: [String]) {
        let batch = try await client.prepareBatch(control: try control(policy), files: [("people", try people(records))])
        _ = try await client.schedule(batch: batch, dryRun: dryRun)
        let status = try await client.waitForBatch(batch)
        let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(batch)").body.split(separator: "\n").map(String.init)
        return (status, log)
    }

    @Test func aRateOverTheLimitStopsTheRunOnceAHundredRecordsWereRead() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let (status, log) = try await Self.run(client, policy: #"{"maxErrorRate": "5%"}"#, records: 300)
            #expect(status["state"] == .string("error"))
            // 10 records of the first 100 fail, with 11 errors: 11% > 5%, judged at record 100.
            #expect(log.contains("STOPPED: 11 errors in 100 records, more than the control file's limit of 5%"), "\(log.suffix(3))")
            #expect(status["progress"]?["recordsRead"] == .number(100))
            #expect(status["progress"]?["recordsApplied"] == .number(90))
            #expect(log.last?.hasPrefix("END: ") == true)
            // What it committed before stays.
            let objects = try JSONParser.parse(try await client.get("/api/v1/objects?type=std:type:person&limit=500").body)
            #expect(objects["objects"]?.arrayValue?.count == 90)

            // Under the rate: the run goes to the end.
            let (calm, calmLog) = try await Self.run(client, policy: #"{"maxErrorRate": "25%", "mode": "per-record"}"#, records: 300)
            #expect(calm["state"] == .string("complete"))
            #expect(!calmLog.contains { $0.hasPrefix("STOPPED") })
        }
    }

    @Test func aCountOverTheLimitStopsTheRunAtOnceAlsoInADryRun() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            for dryRun in [true, false] {
                let (status, log) = try await Self.run(client, policy: #"{"maxErrors": 3}"#, records: 50, dryRun: dryRun)
                #expect(status["state"] == .string("error"))
                #expect(log.contains("STOPPED: 4 errors in 30 records, more than the control file's limit of 3 errors"), "\(log.suffix(3))")
            }
        }
    }

    @Test func aBatchLimitGivenOnScheduleWinsOverTheControlFiles() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let batch = try await client.prepareBatch(control: try Self.control(#"{"maxErrors": 100}"#), files: [("people", try Self.people(50))])
            let refused = try await client.post("schedule", ["batch": batch, "maxErrors": "three"])
            #expect(refused.status == 400)
            #expect(refused.body == "Invalid maxErrors: three (use a whole number of errors, 0 or more)")
            #expect(try await client.post("schedule", ["batch": batch, "maxErrors": "1"]).status == 200)
            let status = try await client.waitForBatch(batch)
            #expect(status["state"] == .string("error"))
            let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(batch)").body
            #expect(log.contains("STOPPED: 2 errors in 10 records, more than the batch's limit of 1 error"), "\(log)")

            // The command line's `push --max-errors`.
            let connection = ["--server", server.base, "--key", server.apiKey]
            let push = try await ClientCommandTests.intake(
                ["push"] + connection + [
                    "--control", try Self.control("{}").path, "--file", "people=\(try Self.people(50).path)", "--max-errors", "3", "--wait"
                ])
            #expect(push.stderr.contains("STOPPED: 4 errors in 30 records, more than the batch's limit of 3 errors"), "\(push.stderr)")
        }
    }

    @Test(arguments: [
        (#"[5]"#, "errorPolicy must be an object with maxErrors, maxErrorRate and/or mode"),
        (#"{"maxError": 5}"#, "errorPolicy property maxError is not known: the properties are maxErrors, maxErrorRate and mode"),
        (#"{"maxErrors": -1}"#, "errorPolicy maxErrors must be a whole number of errors, 0 or more"),
        (#"{"maxErrors": "5"}"#, "errorPolicy maxErrors must be a whole number of errors, 0 or more"),
        (#"{"maxErrorRate": 5}"#, "errorPolicy maxErrorRate must be a percentage like \"5%\", from 0% to 100%"),
        (#"{"maxErrorRate": "105%"}"#, "errorPolicy maxErrorRate must be a percentage like \"5%\", from 0% to 100%"),
        (#"{"mode": "some"}"#, #"errorPolicy mode must be "per-record""#)
    ])
    func wrongPoliciesAreRefusedOnUpload(policy: String, message: String) async throws {
        try await TestServer.start().scoped { server in
            let answer = try await BatchClient(server).uploadControl(try Self.control(policy))
            #expect(answer.status == 400)
            #expect(answer.body == "Invalid control file:\n  \(message)")
        }
    }
}
