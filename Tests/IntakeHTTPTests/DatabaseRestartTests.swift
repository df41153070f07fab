import Foundation
import IntakeCore
import IntakePostgres
import IntakeStore
import IntakeTesting
import Testing

extension FaultTests {
    /// The PostgreSQL server restarts under two nodes in the middle of a run (`pg_ctl stop -m
    /// immediate`, started again ten seconds later), on a cluster of the test's own. While it is down,
    /// every request that needs it is answered 503 with `Retry-After` and `/health` answers at once;
    /// afterwards the batch goes on by itself to `complete`, every record applied once.
    @Suite(.serialized) struct DatabaseRestartTests {
        static let records = 150_000

        @Test func aPostgreSQLRestartMidRunIsSurvivedByItself() async throws {
            let cluster = try PrivateTestCluster()
            defer { cluster.remove() }
            let a = try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: ["--database", cluster.url])
            defer { a.stopWithoutWaiting() }
            let b = try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: ["--database", cluster.url])
            defer { b.stopWithoutWaiting() }
            let key = try #require(a.apiKey ?? b.apiKey)
            let viaA = BatchClient(RemoteServer(port: a.port, apiKey: key))
            let viaB = BatchClient(RemoteServer(port: b.port, apiKey: key))
            let people = try CrashTests.peopleFile(count: Self.records)
            defer { try? FileManager().removeItem(at: people) }
            let batch = try await viaA.prepareBatch(control: try Fixtures.write(RestartTests.control), files: [("people", people)])
            #expect(try await viaA.schedule(batch: batch).status == 200)

            // Stop the database once the run has committed something.
            let deadline = Date().addingTimeInterval(120)
            var applied = 0.0
            while Date() < deadline {
                let answer = try await viaA.get("/api/haplo-data-import-batch/status?batch=\(batch)")
                guard answer.status == 200 else {
                    Issue.record("status before the restart: \(answer.status) \(answer.body)")
                    break
                }
                let status = try JSONParser.parse(answer.body)
                if case .number(let n)? = status["progress"]?["recordsApplied"] { applied = n }
                if applied > 0 || [.string("complete"), .string("error")].contains(status["state"]) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(applied > 0 && applied < Double(Self.records), "the run was not caught in the middle (\(applied) records)")
            try cluster.crash()

            // While the database is down: 503 with Retry-After, and a prompt /health.
            for client in [viaA, viaB] {
                let asked = Date()
                let status = try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)")
                #expect(status.status == 503, "\(status.status) \(status.body)")
                #expect(Date().timeIntervalSince(asked) < 15, "the status took \(Date().timeIntervalSince(asked)) s to be refused")
                #expect(status.headers.lowercased().contains("retry-after:"))
                let started = Date()
                let health = try await Curl.run(["\(client.server.base)/health"])
                #expect(health.status == 503)
                #expect(Date().timeIntervalSince(started) < 6, "/health took \(Date().timeIntervalSince(started)) s")
            }
            try await Task.sleep(for: .seconds(10))
            try cluster.restart()

            // The batch finishes by itself, without an error and without a record applied twice.
            let finished = try await Self.waitRetrying(viaB, batch)
            #expect(finished["state"] == .string("complete"), "\(finished)")
            #expect(finished["progress"]?["recordsApplied"] == .number(Double(Self.records)))
            #expect(finished["errors"] == .number(2))  // the control file's own two log-error lines
            let database = try PostgresDatabase(location: try PostgresLocation(url: cluster.url), poolSize: 1)
            defer { database.close() }
            let store = try await PostgresBatchStore(database: database)
            try await Self.expectAppliedOnce(store, batch: batch, records: Self.records)
            try await a.terminate()
            try await b.terminate()
        }

        /// One object per record, none saved twice, and no run that ended in an exception.
        static func expectAppliedOnce(_ store: PostgresBatchStore, batch: String, records: Int) async throws {
            let counts = try await store.objectCounts(writtenBy: BatchID(rawValue: batch))
            #expect(counts.objects == records)
            #expect(counts.usernames == counts.objects, "two objects have the same username: a record was applied twice")
            #expect(counts.maxVersion == 1)
            let log = try await store.log(of: BatchID(rawValue: batch))
            #expect(!log.contains { $0.hasPrefix("EXCEPTION") }, "\(log)")
        }

        /// Waits for the batch to end, retrying answers of 503 as a client should (the pool of a node
        /// may take a moment to reconnect).
        static func waitRetrying(_ client: BatchClient, _ batch: String) async throws -> JSONValue {
            let deadline = Date().addingTimeInterval(300)
            var last = "no answer"
            while Date() < deadline {
                let answer = try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)")
                last = "\(answer.status) \(answer.body)"
                if answer.status == 200 {
                    let status = try JSONParser.parse(answer.body)
                    if let state = status["state"]?.stringValue, ["complete", "error", "cancelled"].contains(state) { return status }
                } else {
                    #expect(answer.status == 503, "\(answer.status) \(answer.body)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "batch \(batch) did not finish; its last status: \(last)"])
        }
    }

    /// A node whose pool cannot fit in what the PostgreSQL server allows says so when it starts.
    @Suite struct ConnectionLimitTests {
        @Test func aPoolLargerThanTheServerAllowsIsWarnedAboutAtStartUp() async throws {
            let url = try await TestPostgres.newDatabaseURL()
            let fits = try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: ["--database", url, "--pool-size", "4"])
            let tooBig = try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: ["--database", url, "--pool-size", "5000"])
            try await Task.sleep(for: .milliseconds(500))
            #expect(!fits.log.contains("more PostgreSQL connections than the server has left"), "\(fits.log)")
            #expect(tooBig.log.contains("more PostgreSQL connections than the server has left"), "\(tooBig.log)")
            try await fits.terminate()
            try await tooBig.terminate()
        }
    }

    /// Two nodes whose pools and runs need more connections than PostgreSQL allows (`max_connections`
    /// 10, seven for ordinary users): every batch still ends `complete`, each record once, because a
    /// refused connection makes a run wait and resume and a request answer 503, never an `error`.
    @Suite(.serialized) struct TooFewConnectionsTests {
        @Test func batchesWaitForConnectionsInsteadOfFailing() async throws {
            let cluster = try PrivateTestCluster(maxConnections: 10)
            defer { cluster.remove() }
            let arguments = ["--database", cluster.url, "--pool-size", "6", "--workers", "3"]
            let a = try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: arguments)
            defer { a.stopWithoutWaiting() }
            let b = try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: arguments)
            defer { b.stopWithoutWaiting() }
            #expect(a.log.contains("more PostgreSQL connections than the server has left"), "\(a.log)")
            let key = try #require(a.apiKey ?? b.apiKey)
            let viaA = BatchClient(RemoteServer(port: a.port, apiKey: key))
            let records = 20_000
            let people = try CrashTests.peopleFile(count: records)
            defer { try? FileManager().removeItem(at: people) }
            let control = try Fixtures.write(RestartTests.control)
            var batches: [String] = []
            for _ in 0..<6 { batches.append(try await viaA.prepareBatch(control: control, files: [("people", people)])) }
            for batch in batches { #expect(try await viaA.schedule(batch: batch).status == 200) }
            for (k, batch) in batches.enumerated() {
                let client = BatchClient(RemoteServer(port: (k % 2 == 0 ? a : b).port, apiKey: key))
                let finished: JSONValue
                do {
                    finished = try await DatabaseRestartTests.waitRetrying(client, batch)
                } catch {
                    // What the nodes were doing is the only clue to a run that stopped moving.
                    Issue.record("\(error)\nnode a:\n\(a.log.suffix(6000))\nnode b:\n\(b.log.suffix(6000))")
                    throw error
                }
                if finished["state"] != .string("complete") {
                    Issue.record("batch \(batch): \(try await client.get("/api/haplo-data-import-batch/log?batch=\(batch)").body)")
                }
                #expect(finished["progress"]?["recordsApplied"] == .number(Double(records)))
            }
            try await a.terminate()
            try await b.terminate()
        }
    }
}
