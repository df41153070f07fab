import Foundation
import IntakeCore
import Testing

/// The `errorPolicy` extension: a run stops once its errors go past the control file's limit, with a
/// `STOPPED:` line, in `error`, keeping what it committed before; wrong policies are refused on upload.
@Suite struct ErrorPolicyTests {
    /// People with a name, except every tenth (no name: "dc:attribute:title is not set"; the first
    /// time with a hint, a second error).
    static func people(_ count: Int, failing: Bool = true) throws -> URL {
        let records = (0..<count).map { i in
            failing && i % 10 == 9
                ? #"{"email": "nobody\#(i)@example.ac.uk"}"# : #"{"first": "P\#(i)", "last": "L", "email": "p\#(i)@example.ac.uk"}"#
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

    static func run(
        _ client: BatchClient, policy: String, records: Int, failing: Bool = true, dryRun: Bool = false
    ) async throws -> (status: JSONValue, log: [String]) {
        let batch = try await client.prepareBatch(control: try control(policy), files: [("people", try people(records, failing: failing))])
        _ = try await client.schedule(batch: batch, dryRun: dryRun)
        let status = try await client.waitForBatch(batch)
        let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(batch)").body.split(separator: "\n").map(String.init)
        return (status, log)
    }

    @Test func aRateOverTheLimitStopsTheRunOnceAHundredRecordsWereRead() async throws {
        try await RoutedServer.run { server in
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
        try await RoutedServer.run { server in
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

    static func objectCount(_ client: BatchClient) async throws -> Int? {
        try JSONParser.parse(try await client.get("/api/v1/objects?type=std:type:person&limit=1000").body)["objects"]?.arrayValue?.count
    }

    @Test func allOrNothingAppliesNothingWhenARecordFailsAndEverythingWhenNoneDoes() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let policy = #"{"mode": "all-or-nothing"}"#
            // A dry run first: it decides exactly what the real run does.
            var outcomes: [(status: JSONValue, log: [String], results: [JSONValue])] = []
            for dryRun in [true, false] {
                let batch = try await client.prepareBatch(control: try Self.control(policy), files: [("people", try Self.people(50))])
                _ = try await client.schedule(batch: batch, dryRun: dryRun)
                let status = try await client.waitForBatch(batch)
                let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(batch)").body.split(separator: "\n").map(String.init)
                outcomes.append((status, log, try await client.results(batch)))
            }
            for (status, log, results) in outcomes {
                #expect(status["state"] == .string("error"))
                #expect(log.contains("NOTHING APPLIED: 5 records failed; the control file asks for all or nothing"), "\(log.suffix(3))")
                #expect(log.last?.hasPrefix("END: ") == true)
                #expect(status["progress"]?["recordsRead"] == .number(50))
                #expect(status["progress"]?["recordsFailed"] == .number(5))
                #expect(status["progress"]?["recordsApplied"] == .number(0))
                #expect(status["progress"]?["recordsNotApplied"] == .number(45))
                #expect(status["summary"]?["destinations"] == .object(JSONObject()))
                #expect(results.count == 50)
                #expect(results.filter { $0["status"] == .string("not-applied") }.count == 45)
                #expect(results.filter { $0["status"] == .string("failed") }.count == 5)
            }
            // The real run's log says the same as the dry run's, line for line but the times.
            #expect(outcomes[0].log.dropFirst().dropLast() == outcomes[1].log.dropFirst().dropLast())
            #expect(try await Self.objectCount(client) == 0)

            // The results filter knows the status.
            let batch = try #require(outcomes[1].status["identifier"]?.stringValue)
            let filtered = try await client.get("/api/haplo-data-import-batch/results?batch=\(batch)&status=not-applied")
            #expect(filtered.status == 200)
            #expect(filtered.body.split(separator: "\n").count == 45)

            // Its failed records alone cannot be retried: the others were never applied.
            let retry = try await client.post("retry", ["batch": batch])
            #expect(retry.status == 400)
            #expect(
                retry.body
                    == "Batch \(batch) applied nothing (its control file asks for all or nothing): a batch of its failed records alone would leave out every record that was not applied. Fix them and send the whole file again"
            )

            // The command line says so.
            let push = try await ClientCommandTests.intake(
                ["push", "--server", server.base, "--key", server.apiKey, "--control", try Self.control(policy).path]
                    + ["--file", "people=\(try Self.people(50).path)", "--wait"])
            #expect(push.status != 0)
            #expect(push.stderr.contains("nothing applied: the control file asks for all or nothing; 45 records would have been applied"), "\(push.stderr)")

            // With a limit: the run stops there, and applies nothing either.
            let (stopped, stoppedLog) = try await Self.run(client, policy: #"{"maxErrors": 1, "mode": "all-or-nothing"}"#, records: 50)
            #expect(stopped["state"] == .string("error"))
            #expect(
                Array(stoppedLog.suffix(3).prefix(2)) == [
                    "STOPPED: 2 errors in 10 records, more than the control file's limit of 1 error",
                    "NOTHING APPLIED: 1 record failed; the control file asks for all or nothing"
                ], "\(stoppedLog)")
            #expect(try await Self.objectCount(client) == 0)

            // Every record applies: all of them are there, in one go.
            let (complete, completeLog) = try await Self.run(client, policy: policy, records: 120, failing: false)
            #expect(complete["state"] == .string("complete"))
            #expect(complete["progress"]?["recordsApplied"] == .number(120))
            #expect(complete["summary"]?["destinations"]?["profile"]?["created"] == .number(120))
            #expect(!completeLog.contains { $0.hasPrefix("NOTHING") })
            #expect(try await Self.objectCount(client) == 120)
        }
    }

    @Test func cancellingARunningAllOrNothingBatchIsAnsweredAtOnceAndAppliesNothing() async throws {
        try await RoutedServer.run { server in
            let client = BatchClient(server)
            let batch = try await client.prepareBatch(
                control: try Self.control(#"{"mode": "all-or-nothing"}"#), files: [("people", try Self.people(200_000, failing: false))])
            _ = try await client.schedule(batch: batch)
            func status() async throws -> JSONValue {
                try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)").body)
            }
            // Its progress is stored when it ends; meanwhile the status shows the run's counts.
            while try await status()["progress"]?["recordsRead"] == .number(0) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(try await status()["state"] == .string("running"))
            // The run holds the store's write lock: the cancel must not wait for the end of it.
            let asked = ContinuousClock.now
            #expect(try await client.post("cancel", ["batch": batch]).body == "CANCELLED")
            #expect(ContinuousClock.now - asked < .seconds(10))
            let done = try await client.waitForBatch(batch)
            #expect(done["state"] == .string("cancelled"))
            #expect(done["progress"]?["recordsApplied"] == .number(0))
            let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(batch)").body
            #expect(log.contains("NOTHING APPLIED: the batch was cancelled; the control file asks for all or nothing"), "\(log)")
            #expect(try await Self.objectCount(client) == 0)
        }
    }

    @Test func theBatchPageSaysNothingWasApplied() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let client = BatchClient(browser.server)
            let (status, _) = try await Self.run(client, policy: #"{"mode": "all-or-nothing"}"#, records: 20)
            let id = try #require(status["identifier"]?.stringValue)
            let page = try await browser.get("/admin/batches/\(id)").body
            #expect(
                page.contains(
                    #"<p class="warning" id="nothing-applied">Nothing was applied: the control file asks for all or nothing. Records that would have been applied: 18; failed: 2."#
                ), "\(page)")
            #expect(!page.contains("records committed before it stay"))
            let results = try await browser.get("/admin/batches/\(id)/results?status=not-applied").body
            #expect(results.contains("status-not-applied"))
        }
    }

    @Test func aHeldAllOrNothingFeedNightHasAppliedNothingAndRunsWholeOnceApproved() async throws {
        // The feed of the crash tests, all or nothing, with a guard that holds at 20% from any size.
        let control = try Fixtures.write(
            FeedCrashTests.control.replacingOccurrences(
                of: #""feed":{"name":"crash-feed","key":"id","snapshot":true,"#,
                with: #""errorPolicy":{"mode":"all-or-nothing"},"feed":{"name":"whole-night","key":"id","snapshot":true,"guard":{"maxLeavers":"20%"},"#))
        try await RoutedServer.run { server in
            let client = BatchClient(server)
            let first = try await client.prepareBatch(control: control, files: [("people", try FeedCrashTests.night(10, domain: "one.example"))])
            _ = try await client.schedule(batch: first)
            #expect(try await client.waitForBatch(first)["state"] == .string("complete"))
            /// How many people have an address at each domain.
            func addresses() async throws -> [Int] {
                let body = try await client.get("/api/v1/objects?limit=100").body
                return ["@one.example", "@two.example"].map { body.components(separatedBy: $0).count - 1 }
            }
            let before = try await addresses()
            #expect(before == [10, 0])

            // Half the people leave: held, and none of the other half's new addresses is there yet.
            let second = try await client.prepareBatch(control: control, files: [("people", try FeedCrashTests.night(5, domain: "two.example"))])
            _ = try await client.schedule(batch: second)
            let held = try await client.waitForBatch(second)
            #expect(held["state"] == .string("held"))
            #expect(held["progress"]?["recordsRead"] == .number(0))
            #expect(try await addresses() == before)
            let heldLog = try await client.get("/api/haplo-data-import-batch/log?batch=\(second)").body
            #expect(heldLog.contains("HELD: 5 of 10 keys (50.0%) would leave feed whole-night, more than its limit of 20%"), "\(heldLog)")
            #expect(
                heldLog.contains("NOTHING APPLIED YET: the control file asks for all or nothing; once approved, the batch runs again from its first record"))

            #expect(try await client.post("approve", ["batch": second]).body == "APPROVED")
            let done = try await client.waitForBatch(second)
            #expect(done["state"] == .string("complete"), "\(done)")
            #expect(done["progress"]?["recordsApplied"] == .number(5))
            #expect(done["progress"]?["recordsLeft"] == .number(5))
            #expect(try await client.results(second).count == 10)
            #expect(try await addresses() == [5, 5])
        }
    }

    @Test(arguments: [
        (#"[5]"#, "errorPolicy must be an object with maxErrors, maxErrorRate and/or mode"),
        (#"{"maxError": 5}"#, "errorPolicy property maxError is not known: the properties are maxErrors, maxErrorRate and mode"),
        (#"{"maxErrors": -1}"#, "errorPolicy maxErrors must be a whole number of errors, 0 or more"),
        (#"{"maxErrors": "5"}"#, "errorPolicy maxErrors must be a whole number of errors, 0 or more"),
        (#"{"maxErrorRate": 5}"#, "errorPolicy maxErrorRate must be a percentage like \"5%\", from 0% to 100%"),
        (#"{"maxErrorRate": "105%"}"#, "errorPolicy maxErrorRate must be a percentage like \"5%\", from 0% to 100%"),
        (#"{"mode": "some"}"#, #"errorPolicy mode must be "per-record" or "all-or-nothing""#)
    ])
    func wrongPoliciesAreRefusedOnUpload(policy: String, message: String) async throws {
        try await RoutedServer.run { server in
            let answer = try await BatchClient(server).uploadControl(try Self.control(policy))
            #expect(answer.status == 400)
            #expect(answer.body == "Invalid control file:\n  \(message)")
        }
    }
}
