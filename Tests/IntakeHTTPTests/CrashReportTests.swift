import Foundation
import IntakeCore
import Testing

extension FaultTests {
    /// The poison-batch guard tells a run that brought its process down (a fault: here SIGSEGV, which
    /// the server's crash report catches as it would a real one) from a process killed from outside
    /// (SIGKILL: no report). With `--max-crashes 1`, one crash ends the batch in `error` after the
    /// restart; a kill does not, and the batch completes.
    ///
    /// The servers run without the Swift runtime's backtracer: after our handler it would take the
    /// SIGSEGV, print a backtrace and return, and a signal sent with `kill` (unlike a real fault, which
    /// happens again when the instruction is retried) would then leave the process suspended.
    @Suite(.serialized) struct CrashReportTests {
        static let records = 200_000
        static let withoutBacktracer = ["SWIFT_BACKTRACE": "enable=no"]

        /// Starts a server, schedules a big batch and waits until it has committed records; returns the
        /// server, a client and the batch.
        private func runningBatch(data: URL) async throws -> (ServerProcess, BatchClient, String) {
            let server = try await ServerProcess.start(data: data, arguments: ["--max-crashes", "1"], environment: Self.withoutBacktracer)
            let client = BatchClient(RemoteServer(port: server.port, apiKey: try #require(server.apiKey)))
            let people = try CrashTests.peopleFile(count: Self.records)
            defer { try? FileManager().removeItem(at: people) }
            let batch = try await client.prepareBatch(control: try Fixtures.write(RestartTests.control), files: [("people", people)])
            _ = try await client.schedule(batch: batch)
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let status = try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)").body)
                if case .number(let applied)? = status["progress"]?["recordsApplied"], applied > 0 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            return (server, client, batch)
        }

        private func restart(_ data: URL, key: String) async throws -> (ServerProcess, BatchClient) {
            let server = try await ServerProcess.start(data: data, arguments: ["--max-crashes", "1"], environment: Self.withoutBacktracer)
            return (server, BatchClient(RemoteServer(port: server.port, apiKey: key)))
        }

        @Test func aCrashReportedByTheProcessCountsAndAKillDoesNot() async throws {
            // A fault: the report names the batch, and with --max-crashes 1 it is given up.
            let crashedData = try TestServer.makeDirectory()
            let (crashing, crashingClient, crashed) = try await runningBatch(data: crashedData)
            let key = crashingClient.server.apiKey
            kill(crashing.process.processIdentifier, SIGSEGV)
            crashing.process.waitUntilExit()
            #expect(crashing.process.terminationReason == .uncaughtSignal)
            let report = try String(contentsOf: crashedData.appendingPathComponent("crashed-batches"), encoding: .utf8)
            #expect(report == crashed + "\n")
            let (afterCrash, client) = try await restart(crashedData, key: key)
            defer { afterCrash.stopWithoutWaiting() }
            let ended = try await client.waitForBatch(crashed, timeout: 60)
            #expect(ended["state"] == .string("error"), "\(ended)")
            let log = try await client.get("/api/haplo-data-import-batch/log?batch=\(crashed)").body
            #expect(log.contains("EXCEPTION: Error during import: the run of this batch ended the process 1 times in a row"), "\(log)")
            #expect(try String(contentsOf: crashedData.appendingPathComponent("crashed-batches"), encoding: .utf8).isEmpty)
            try await afterCrash.terminate()

            // A kill from outside: no report, and the batch is resumed to the end.
            let killedData = try TestServer.makeDirectory()
            let (killing, killingClient, killed) = try await runningBatch(data: killedData)
            try await killing.kill()
            #expect(try String(contentsOf: killedData.appendingPathComponent("crashed-batches"), encoding: .utf8).isEmpty)
            let (afterKill, resumedClient) = try await restart(killedData, key: killingClient.server.apiKey)
            defer { afterKill.stopWithoutWaiting() }
            let finished = try await resumedClient.waitForBatch(killed, timeout: 300)
            #expect(finished["state"] == .string("complete"), "\(finished)")
            #expect(finished["progress"]?["recordsApplied"] == .number(Double(Self.records)))
            try await afterKill.terminate()
        }
    }
}
