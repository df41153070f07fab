import Foundation
import IntakeCore
import IntakePostgres
import IntakeStore
import IntakeTesting
import Testing

/// Two `intake serve` processes on one PostgreSQL database, as two nodes behind a load balancer.
@Suite(.serialized) struct MultiNodeTests {
    static let largeCount = 200_000

    /// Starts a node on the database; its data directory holds nothing but the first start's
    /// credentials file (not used: the first node prints them).
    private func node(_ url: String) async throws -> ServerProcess {
        try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: ["--database", url])
    }

    /// `--workers 2`: one node runs two batches at once, each to the end.
    @Test func oneNodeWithTwoWorkersRunsTwoBatchesAtOnce() async throws {
        let url = try await TestPostgres.newDatabaseURL()
        let server = try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: ["--database", url, "--workers", "2"])
        do {
            try await runTwoAtOnce(server)
        } catch {
            try? await server.terminate()
            throw error
        }
        try await server.terminate()
    }

    private func runTwoAtOnce(_ server: ServerProcess) async throws {
        let client = BatchClient(RemoteServer(port: server.port, apiKey: try #require(server.apiKey)))
        let people = try CrashTests.peopleFile(count: 60_000)
        let control = try Fixtures.write(RestartTests.control)
        let first = try await client.prepareBatch(control: control, files: [("people", people)])
        let second = try await client.prepareBatch(control: control, files: [("people", people)])
        _ = try await client.schedule(batch: first)
        _ = try await client.schedule(batch: second)
        var both = false
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && !both {
            let states = try await [first, second].asyncMap { batch in
                try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)").body)["state"]?.stringValue
            }
            both = states == ["running", "running"]
            if states.contains(where: { $0 == "complete" }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(both, "the two batches never ran at the same time")
        for batch in [first, second] {
            let status = try await client.waitForBatch(batch, timeout: 300)
            #expect(status["state"] == .string("complete"))
            #expect(status["progress"]?["recordsApplied"] == .number(60_000))
        }
    }

    @Test func twoNodesShareTheWorkAndOneFinishesWhatTheOtherStarted() async throws {
        let url = try await TestPostgres.newDatabaseURL()
        let a = try await node(url)
        let b = try await node(url)
        // Stopped here whatever happens, not in a deferred task: the test process may end before
        // such a task runs and leave the servers behind.
        let killed: ServerProcess
        do {
            killed = try await shareAndTakeOver(url, a, b)
        } catch {
            try? await a.terminate()
            try? await b.terminate()
            throw error
        }
        try await (killed === a ? b : a).terminate()
    }

    /// Returns the node that was killed.
    private func shareAndTakeOver(_ url: String, _ a: ServerProcess, _ b: ServerProcess) async throws -> ServerProcess {
        let key = try #require(a.apiKey ?? b.apiKey, "neither node printed the first start's API key")
        let viaA = BatchClient(RemoteServer(port: a.port, apiKey: key))
        let viaB = BatchClient(RemoteServer(port: b.port, apiKey: key))

        // Control file and batch through node A, the file through node B, scheduled through A; the
        // run is done by whichever node's worker claims it, and B reports it.
        let digest = try await viaA.uploadControl(try Fixtures.write(RestartTests.control)).body
        let small = try await viaA.createBatch(control: digest, comment: "small").body
        let upload = try await viaB.uploadFile(batch: small, name: "people", file: try RestartTests.peopleFile())
        #expect(upload.status == 200, "\(upload.body)")
        #expect(try await viaA.schedule(batch: small).status == 200)
        let status = try await viaB.waitForBatch(small)
        #expect(status["state"] == .string("complete"))
        #expect(status["progress"]?["recordsApplied"] == .number(Double(RestartTests.recordCount)))

        // A large batch: the node running it is killed (SIGKILL) mid-run, and the other finishes it.
        let store = try await PostgresBatchStore(database: try TestPostgres.database(url: url, poolSize: 2))
        let large = try await viaA.createBatch(control: digest, comment: "large").body
        #expect(try await viaB.uploadFile(batch: large, name: "people", file: try CrashTests.peopleFile(count: Self.largeCount)).status == 200)
        #expect(try await viaB.schedule(batch: large).status == 200)
        let id = BatchID(rawValue: large)
        var owner: String?
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let batch = try await store.batch(id), batch.progress.recordsRead >= 20_000 {
                owner = try await store.leaseOwner(of: id)
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let runner = try #require(owner, "the large batch never got going")
        let pid = try #require(Int32(runner.split(separator: " ")[1]))
        let (victim, survivor) = pid == a.process.processIdentifier ? (a, viaB) : (b, viaA)
        #expect([a.process.processIdentifier, b.process.processIdentifier].contains(pid), "the batch runs under \(runner), not a node")
        try await victim.kill()
        let killedAt = try #require(try await store.batch(id)).progress.recordsRead
        #expect(killedAt < Self.largeCount, "the batch finished before the kill; nothing was taken over")

        let final = try await survivor.waitForBatch(large, timeout: 600)
        #expect(final["state"] == .string("complete"))
        #expect(final["progress"]?["recordsRead"] == .number(Double(Self.largeCount)))
        #expect(final["progress"]?["recordsApplied"] == .number(Double(Self.largeCount)))

        // Exactly once: one object and one version per record, none missing, none saved twice.
        let counts = try await store.objectCounts(writtenBy: id)
        #expect(counts.objects == Self.largeCount)
        #expect(counts.usernames == counts.objects, "two objects have the same username: a record was applied twice")
        #expect(counts.versions == counts.objects)
        #expect(counts.maxVersion == 1)
        // The log records the takeover; the results have one line per record, in order.
        let log = try await store.log(of: id)
        #expect(log.filter { $0.hasPrefix("TAKEN OVER: ") }.count == 1, "\(log)")
        #expect(log.filter { $0.hasPrefix("START: ") }.count == 1 && log.filter { $0.hasPrefix("END: ") }.count == 1)
        let results = try await store.results(of: id)
        #expect(results.count == Self.largeCount)
        let records = results.compactMap { line -> Int? in
            guard case .number(let record)? = (try? JSONParser.parse(line))?["record"] else { return nil }
            return Int(record)
        }
        #expect(records == Array(records.indices.map { records.first! + $0 }), "the results are not one line per record in order")
        return victim
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
