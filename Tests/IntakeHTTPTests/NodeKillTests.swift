import Foundation
import IntakeCore
import IntakePostgres
import IntakeStore
import IntakeTesting
import Testing

extension FaultTests {
    /// Two nodes on one PostgreSQL database, and the node running the batch killed with SIGKILL again
    /// and again, each time started again: the batch ends `complete`, every record applied once, and
    /// no kill counted as a crash. CI kills 3 times, every 2–4 s; `scripts/crash-test` kills 8 times, every
    /// 5–10 s, on a larger batch (INTAKE_NODE_KILLS, INTAKE_NODE_KILL_SECONDS, INTAKE_NODE_KILL_RECORDS).
    @Suite(.serialized) struct NodeKillTests {
        static let environment = ProcessInfo.processInfo.environment
        static let kills = Int(environment["INTAKE_NODE_KILLS"] ?? "") ?? 3
        static let records = Int(environment["INTAKE_NODE_KILL_RECORDS"] ?? "") ?? 80_000
        static let seconds: ClosedRange<Double> = {
            let parts = (environment["INTAKE_NODE_KILL_SECONDS"] ?? "2-4").split(separator: "-").compactMap { Double($0) }
            return parts.count == 2 ? parts[0]...parts[1] : 2...4
        }()

        @Test func killingTheNodeThatRunsTheBatchAgainAndAgainAppliesEveryRecordOnce() async throws {
            let url = try await TestPostgres.newDatabaseURL()
            var nodes = [
                try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: ["--database", url]),
                try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: ["--database", url])
            ]
            defer { for node in nodes { node.stopWithoutWaiting() } }
            let key = try #require(nodes[0].apiKey ?? nodes[1].apiKey)
            func client(_ node: ServerProcess) -> BatchClient { BatchClient(RemoteServer(port: node.port, apiKey: key)) }
            let people = try CrashTests.peopleFile(count: Self.records)
            defer { try? FileManager().removeItem(at: people) }
            let batch = try await client(nodes[0]).prepareBatch(control: try Fixtures.write(RestartTests.control), files: [("people", people)])
            _ = try await client(nodes[0]).schedule(batch: batch)
            let database = try PostgresDatabase(location: try PostgresLocation(url: url), poolSize: 1)
            defer { database.close() }
            let store = try await PostgresBatchStore(database: database)

            var killed = 0
            while killed < Self.kills {
                try await Task.sleep(for: .seconds(Double.random(in: Self.seconds)))
                guard let running = try await store.batch(BatchID(rawValue: batch)), running.state == .running else { break }
                // The node that holds the lease, else either (the batch is between owners).
                let owner = try await store.leaseOwner(of: BatchID(rawValue: batch)) ?? ""
                let index = nodes.firstIndex { owner.contains(" \($0.process.processIdentifier) ") } ?? killed % 2
                try await nodes[index].kill()
                killed += 1
                print("node kill \(killed): node \(index) at record \(running.progress.recordsRead)")
                nodes[index] = try await ServerProcess.start(data: try TestServer.makeDirectory(), arguments: ["--database", url])
            }
            #expect(killed >= 1, "the batch ended before any node was killed")
            let finished = try await client(nodes[0]).waitForBatch(batch, timeout: 900)
            #expect(finished["state"] == .string("complete"), "\(finished)")
            #expect(finished["progress"]?["recordsApplied"] == .number(Double(Self.records)))
            try await DatabaseRestartTests.expectAppliedOnce(store, batch: batch, records: Self.records)
            for node in nodes { try await node.terminate() }
        }
    }
}
