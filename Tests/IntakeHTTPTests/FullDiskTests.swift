import Foundation
import GRDB
import IntakeCore
import Testing

extension FaultTests {
    /// A disk that fills up under a running import, then gets room again: writes are refused with 507
    /// while reads go on, `/ready` says why, the batch waits in `running` (never `error`), and it
    /// resumes by itself once there is room, every record applied once.
    ///
    /// The disk is a small tmpfs when the tests run as root (CI does): a really full disk, as SQLite
    /// sees it in production. Otherwise (or with `INTAKE_TEST_DISK=limit`) the server gets a soft
    /// file-size limit, lifted with `prlimit`.
    @Suite(.serialized) struct FullDiskTests {
        /// A place to put a data directory that runs out of room, and a way to give it room again.
        struct SmallDisk {
            let directory: URL
            let mounted: Bool
            var fileSizeLimitKB: Int? { mounted ? nil : 6 * 1024 }

            static func make() throws -> SmallDisk {
                let directory = try TestServer.makeDirectory()
                // INTAKE_TEST_DISK=limit uses the file-size limit as root too.
                guard getuid() == 0, ProcessInfo.processInfo.environment["INTAKE_TEST_DISK"] != "limit" else {
                    return SmallDisk(directory: directory, mounted: false)
                }
                let mount = try Self.run(["/bin/mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", directory.path])
                #expect(mount == 0, "mount -t tmpfs failed")
                return SmallDisk(directory: directory, mounted: mount == 0)
            }

            func makeRoom(for server: ServerProcess) throws {
                let status =
                    mounted
                    ? try Self.run(["/bin/mount", "-o", "remount,size=512m", directory.path])
                    : try Self.run(["/usr/bin/prlimit", "--pid", "\(server.process.processIdentifier)", "--fsize=unlimited:unlimited"])
                #expect(status == 0, "could not give the disk room again")
            }

            func remove() {
                if mounted { _ = try? Self.run(["/bin/umount", "-l", directory.path]) }
                try? FileManager().removeItem(at: directory)
            }

            static func run(_ arguments: [String]) throws -> Int32 {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: arguments[0])
                process.arguments = Array(arguments.dropFirst())
                try process.run()
                process.waitUntilExit()
                return process.terminationStatus
            }
        }

        @Test func aFullDiskRefusesWritesKeepsReadsAndTheRunResumesOnceThereIsRoom() async throws {
            let disk = try SmallDisk.make()
            defer { disk.remove() }
            let data = disk.directory.appendingPathComponent("data")
            let server = try await ServerProcess.start(data: data, fileSizeLimitKB: disk.fileSizeLimitKB, softLimit: true)
            defer { server.stopWithoutWaiting() }
            let client = BatchClient(RemoteServer(port: server.port, apiKey: try #require(server.apiKey)))
            let records = 30_000
            let people = try CrashTests.peopleFile(count: records)
            defer { try? FileManager().removeItem(at: people) }
            let digest = try await client.uploadControl(try Fixtures.write(RestartTests.control)).body
            let batch = try await client.createBatch(control: digest).body
            #expect(try await client.uploadFile(batch: batch, name: "people", file: people).status == 200)
            #expect(try await client.schedule(batch: batch).status == 200)

            // The run's own writes fill the disk; then a request that writes is refused.
            var refused: Curl.Result?
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                let attempt = try await client.createBatch(control: digest)
                if attempt.status != 200 {
                    refused = attempt
                    break
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            let answer = try #require(refused, "the disk never filled up")
            #expect(answer.status == 507, "\(answer.status) \(answer.body)")
            #expect(answer.body.hasPrefix("Insufficient storage:"), "\(answer.body)")

            // Reads go on, and the batch waits in `running`.
            let status = try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)")
            #expect(status.status == 200, "\(status.body)")
            let waiting = try JSONParser.parse(status.body)
            #expect(waiting["state"] == .string("running"), "\(waiting)")
            if case .number(let applied)? = waiting["progress"]?["recordsApplied"] { #expect(applied < Double(records)) }
            #expect(try await client.get("/api/v1/objects?limit=1").status == 200)
            #expect(try await Curl.run(["\(client.server.base)/health"]).status == 200)
            let ready = try await Curl.run(["\(client.server.base)/ready"])
            #expect(ready.status == 503)
            #expect(ready.body.contains("disk"), "\(ready.body)")
            try await Task.sleep(for: .seconds(2))
            let still = try JSONParser.parse(try await client.get("/api/haplo-data-import-batch/status?batch=\(batch)").body)
            #expect(still["state"] == .string("running"))

            // Room again: the run resumes by itself and finishes, each record applied once.
            try disk.makeRoom(for: server)
            let finished = try await client.waitForBatch(batch, timeout: 180)
            #expect(finished["state"] == .string("complete"), "\(finished)")
            #expect(finished["progress"]?["recordsApplied"] == .number(Double(records)))
            #expect(try await client.createBatch(control: digest).status == 200)
            try await server.terminate()
            let counts = try await DatabaseQueue(path: data.appendingPathComponent("intake.sqlite").path).read { db in
                [
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM objects"),
                    try Int.fetchOne(db, sql: "SELECT count(DISTINCT username) FROM objects"),
                    try Int.fetchOne(db, sql: "SELECT max(version) FROM objects")
                ]
            }
            #expect(counts == [records, records, 1])
        }
    }
}
