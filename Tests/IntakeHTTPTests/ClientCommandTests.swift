import Foundation
import IntakeTesting
import Testing

/// The client commands (`intake push`, `status`, `log`, `results`, `cancel`, `copy`, `rollback`,
/// `batches`) run as real processes against a real `intake serve` on loopback, checked by their
/// output and exit status.
@Suite struct ClientCommandTests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `intake` with `arguments`; never throws for a non-zero exit.
    static func intake(_ arguments: [String], environment: [String: String] = [:]) async throws -> Outcome {
        let arguments = try await TestBackend.arguments(arguments)
        return try await onOwnThread {
            let process = Process()
            process.executableURL = ServerProcess.executable
            process.arguments = arguments
            var variables = ProcessInfo.processInfo.environment
            for name in ["INTAKE_API_KEY", "INTAKE_SERVER", "INTAKE_PROFILE"] { variables[name] = nil }
            // No profile of the person running the tests is read.
            variables["XDG_CONFIG_HOME"] = FileManager().temporaryDirectory.appendingPathComponent("no-config-\(UUID())").path
            variables.merge(environment) { $1 }
            process.environment = variables
            let out = Pipe()
            let errorFile = FileManager().temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
            _ = FileManager().createFile(atPath: errorFile.path, contents: nil)
            defer { try? FileManager().removeItem(at: errorFile) }
            process.standardOutput = out
            process.standardError = try FileHandle(forWritingTo: errorFile)
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Outcome(
                status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                stderr: (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "")
        }
    }

    static let examples = Fixtures.examples.path

    /// Runs a shell script; returns what it printed on stdout.
    static func runShell(_ script: String) async throws -> String {
        try await onOwnThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", script]
            var variables = ProcessInfo.processInfo.environment
            for name in ["INTAKE_API_KEY", "INTAKE_SERVER", "INTAKE_PROFILE"] { variables[name] = nil }
            variables["XDG_CONFIG_HOME"] = FileManager().temporaryDirectory.appendingPathComponent("no-config-\(UUID())").path
            process.environment = variables
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// A server on a fresh data directory, and the arguments that reach it.
    static func server() async throws -> (ServerProcess, [String]) {
        let server = try await ServerProcess.start(data: try TestServer.makeDirectory())
        return (server, ["--server", "http://127.0.0.1:\(server.port)", "--key", try #require(server.apiKey)])
    }

    static func cleanData() throws -> URL {
        try Fixtures.write(
            #"[{"first":"Ada","last":"Lovelace","email":"ada@example.ac.uk","job":"Analyst","username":"ALovelace"}]"#)
    }

    @Test func pushWaitImportsAndExitsZeroWhenEveryRecordApplies() async throws {
        let (server, connection) = try await Self.server()
        defer { server.stopWithoutWaiting() }
        let push = try await Self.intake(
            ["push"] + connection + ["--control", "\(Self.examples)/control.json", "--file", "data0=\(try Self.cleanData().path)", "--wait"])
        #expect(push.status == 0, "\(push.stderr)")
        let batch = try #require(push.stdout.split(separator: "\n").last.map(String.init))
        #expect(batch.count == 26)
        #expect(push.stderr.contains("complete: 1 records read, 1 applied, 0 failed, 0 unchanged, 0 errors (batch \(batch))"))

        let status = try await Self.intake(["status"] + connection + [batch])
        #expect(status.status == 0)
        #expect(status.stdout.contains(#""state":"complete""#))
        let log = try await Self.intake(["log"] + connection + [batch])
        #expect(log.stdout.hasPrefix("START: ") && log.stdout.contains("\nEND: "))
        let results = try await Self.intake(["results"] + connection + [batch])
        #expect(results.stdout.split(separator: "\n").count == 1)
        #expect(results.stdout.contains(#""status":"applied""#))

        // A second push of the same data loads the person by username: nothing changes.
        let again = try await Self.intake(
            ["push"] + connection + ["--control", "\(Self.examples)/control.json", "--file", "data0=\(try Self.cleanData().path)", "--wait"])
        #expect(again.status == 0)
        #expect(again.stderr.contains("1 applied, 0 failed, 1 unchanged, 0 errors"))

        let copy = try await Self.intake(["copy"] + connection + [batch])
        #expect(copy.status == 0 && copy.stdout.trimmingCharacters(in: .newlines).count == 26)
        let cancelled = try await Self.intake(["cancel"] + connection + [copy.stdout.trimmingCharacters(in: .newlines)])
        #expect(cancelled.stdout == "CANCELLED\n")
        // The copy, dry run and schedule flow without curl: `intake schedule`.
        let second = try await Self.intake(["copy"] + connection + [batch]).stdout.trimmingCharacters(in: .newlines)
        let scheduled = try await Self.intake(["schedule"] + connection + [second, "--dry-run", "--wait"])
        #expect(scheduled.status == 0 && scheduled.stdout == "\(second)\n", "\(scheduled)")
        #expect(
            scheduled.stderr.contains("Scheduled batch \(second) as a dry run") && scheduled.stderr.contains("dry-run: 1 records read"), "\(scheduled.stderr)")
        let twice = try await Self.intake(["schedule"] + connection + [second])
        #expect(twice.status == 2 && twice.stderr.contains("Batch \(second) is not in the 'uploading' state"), "\(twice)")
        let preview = try await Self.intake(["rollback", "--preview"] + connection + [batch])
        #expect(preview.status == 0 && preview.stdout.contains(#""deleteCount":1"#), "\(preview)")
        let rolledBack = try await Self.intake(["rollback"] + connection + [batch])
        // The later run changed nothing, so the person the first one created goes.
        #expect(rolledBack.status == 0 && rolledBack.stdout == "ROLLED BACK\n", "\(rolledBack)")
        let after = try await Self.intake(["status"] + connection + [batch])
        #expect(after.stdout.contains(#""state":"rolled-back""#))
        let batches = try await Self.intake(["batches"] + connection + ["--limit", "2"])
        #expect(batches.status == 0 && batches.stdout.contains(#""batches":["#))
    }

    /// `intake results --failed --format original` gives the failed rows back as they were; fixed,
    /// `intake retry --file` imports them in a new batch of the failed records.
    @Test func failedRowsComeBackAndARetryWithTheFixedFileImportsThem() async throws {
        let (server, connection) = try await Self.server()
        defer { server.stopWithoutWaiting() }
        let data = try Fixtures.write(
            #"[{"first":"Ada","last":"Lovelace","username":"ada"},{"email":"nobody@example.ac.uk","username":"nobody"}]"#)
        let push = try await Self.intake(["push"] + connection + ["--control", "\(Self.examples)/control.json", "--file", "data0=\(data.path)", "--wait"])
        let batch = push.stdout.trimmingCharacters(in: .newlines)
        #expect(push.status == 1, "\(push)")
        let failed = try await Self.intake(["results", "--failed", "--format", "original"] + connection + [batch])
        #expect(failed.status == 0 && failed.stdout.hasPrefix("[\n{\"email\":\"nobody@example.ac.uk\",\"username\":\"nobody\",\"_errors\":["), "\(failed)")
        let fixed = try Fixtures.write(failed.stdout.replacingOccurrences(of: #"{"email""#, with: #"{"first":"No","last":"Body","email""#))
        let retry = try await Self.intake(["retry"] + connection + [batch, "--file", "data0=\(fixed.path)", "--wait"])
        #expect(retry.status == 0, "\(retry)")
        #expect(retry.stderr.contains("1 applied, 0 failed"), "\(retry.stderr)")
        let again = try await Self.intake(["retry"] + connection + [retry.stdout.trimmingCharacters(in: .newlines)])
        #expect(again.status != 0 && again.stderr.contains("has no failed records"), "\(again)")
        let usage = try await Self.intake(["results", "--format", "original"] + connection + [batch])
        #expect(usage.status != 0 && usage.stderr.contains("--format needs --failed"))
    }

    /// A feed's nights from the command line: the summary, a held night (exit 4), `approve`,
    /// `--force`, `feeds` and `feed`.
    @Test func feedNightsHeldApprovedAndListed() async throws {
        let (server, connection) = try await Self.server()
        defer { server.stopWithoutWaiting() }
        let control = try Fixtures.write(FeedTests.peopleControl(guard: #", "guard": {"maxLeavers": 1}"#))
        let three = try Fixtures.write(FeedTests.csv(FeedTests.three))
        func push(_ file: URL, _ extra: [String] = []) async throws -> Outcome {
            try await Self.intake(["push"] + connection + ["--control", control.path, "--file", "staff=\(file.path)", "--wait"] + extra)
        }
        let first = try await push(three)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("  profile: 3 created, 0 updated, 0 unchanged, 0 deleted"), "\(first.stderr)")
        #expect(first.stderr.contains("  feed hr-staff: 0 skipped, 0 left"))
        _ = try await push(three)
        let third = try await push(three)
        #expect(third.stderr.contains("  feed hr-staff: 3 skipped, 0 left"), "\(third.stderr)")
        let forced = try await push(three, ["--force"])
        #expect(forced.stderr.contains("  feed hr-staff: 0 skipped, 0 left"), "\(forced.stderr)")

        // Two of three leave, beyond the limit of 1: held, exit 4, and the way out is printed.
        let one = try await push(try Fixtures.write(FeedTests.csv(Array(FeedTests.three.prefix(1)))))
        #expect(one.status == 4, "\(one.stderr)")
        let batch = try #require(one.stdout.split(separator: "\n").last.map(String.init))
        #expect(one.stderr.contains("held: 2 of 3 keys would leave, more than the limit of 1; intake approve \(batch) or intake cancel \(batch)"))
        let approved = try await Self.intake(["approve"] + connection + [batch])
        #expect(approved.stdout == "APPROVED\n", "\(approved)")
        let done = try await Self.intake(["status"] + connection + ["--wait", batch])
        #expect(done.stdout.contains(#""state":"complete""#), "\(done)")
        let again = try await Self.intake(["approve"] + connection + [batch])
        #expect(again.status == 2 && again.stderr.contains("Batch \(batch) is not in the 'held' state"), "\(again)")

        let feeds = try await Self.intake(["feeds"] + connection)
        #expect(feeds.stdout.contains(#""name":"hr-staff","activeKeys":1,"leftKeys":2"#), "\(feeds)")
        let left = try await Self.intake(["feed"] + connection + ["hr-staff", "--keys", "--state", "left"])
        #expect(left.stdout.contains(#""key":"2""#) && left.stdout.contains(#""key":"3""#) && !left.stdout.contains(#""key":"1""#))
        let missing = try await Self.intake(["feed"] + connection + ["nope"])
        #expect(missing.status == 2 && missing.stderr.contains("Feed not found: nope"), "\(missing)")
    }

    @Test func dryRunAndRecordErrorsAndRejectedControlFiles() async throws {
        let (server, connection) = try await Self.server()
        defer { server.stopWithoutWaiting() }
        let dry = try await Self.intake(
            ["push"] + connection + [
                "--control", "\(Self.examples)/control.json", "--file", "data0=\(Self.examples)/data.json", "--dry-run", "--wait", "--json"
            ])
        // The example has an invalid e-mail address: a record error, exit status 1.
        #expect(dry.status == 1, "\(dry.stderr)")
        #expect(dry.stdout.contains(#""state":"dry-run""#))
        #expect(dry.stderr.contains("  Invalid email address for input field email: not-an-email (record 2)"))

        let invalid = try Fixtures.write(#"{"dataImportControlFileVersion":0}"#)
        let rejected = try await Self.intake(["push"] + connection + ["--control", invalid.path, "--file", "data0=\(Self.examples)/data.json"])
        #expect(rejected.status == 2)
        #expect(rejected.stderr.hasPrefix("Invalid control file:\n  Control file does not specify model in the model property"))
        #expect(rejected.stdout.isEmpty)

        let missing = try await Self.intake(["push"] + connection + ["--control", "\(Self.examples)/control.json", "--file", "data0=/no/such/file.json"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "Cannot read the file /no/such/file.json\n")
    }

    /// Without --wait, push schedules and prints the batch id (or, with --json, the ids as JSON);
    /// results can be filtered by status.
    @Test func pushWithoutWaitAndFilteredResults() async throws {
        let (server, connection) = try await Self.server()
        defer { server.stopWithoutWaiting() }
        let push = try await Self.intake(
            ["push"] + connection + ["--control", "\(Self.examples)/control.json", "--file", "data0=\(Self.examples)/data.json", "--json"])
        #expect(push.status == 0, "\(push.stderr)")
        let ids = try #require(try JSONSerialization.jsonObject(with: Data(push.stdout.utf8)) as? [String: String])
        let batch = try #require(ids["batch"])
        #expect(ids["control"]?.count == 64)
        let waited = try await Self.intake(["status"] + connection + ["--wait", batch])
        #expect(waited.stdout.contains(#""state":"complete""#))
        let applied = try await Self.intake(["results"] + connection + ["--status", "applied", batch])
        #expect(applied.stdout.split(separator: "\n").count == 3)
        let failed = try await Self.intake(["results"] + connection + ["--failed", batch])
        #expect(failed.status == 0 && failed.stdout.isEmpty)
        let unknown = try await Self.intake(["log"] + connection + ["nosuchbatch"])
        #expect(unknown.status == 2 && unknown.stderr == "Batch not found: nosuchbatch\n")
    }

    @Test func connectionAndKeyProblemsExitThree() async throws {
        let (server, connection) = try await Self.server()
        defer { server.stopWithoutWaiting() }
        let badKey = try await Self.intake(["status", "--server", connection[1], "--key", "ik_wrong", "x"])
        #expect(badKey.status == 3)
        #expect(badKey.stderr.contains("refused the API key (401 Unauthorized)"))

        // A port nothing listens on.
        let refusing = try RefusingPort()
        let unreachable = try await Self.intake(["status", "--server", "http://127.0.0.1:\(refusing.port)", "--key", "k", "x"])
        #expect(unreachable.status == 3)
        #expect(unreachable.stderr.contains("Cannot reach the Intake server at http://127.0.0.1:\(refusing.port): connection refused"), "\(unreachable.stderr)")
        withExtendedLifetime(refusing) {}

        let noKey = try await Self.intake(["status", "--server", connection[1], "x"])
        #expect(noKey.status == 3 && noKey.stderr.hasPrefix("No API key:"))
        let fromEnvironment = try await Self.intake(["batches", "--server", connection[1]], environment: ["INTAKE_API_KEY": connection[3]])
        #expect(fromEnvironment.status == 0)
    }

    @Test func profilesGiveServerAndKeyAndMustBePrivate() async throws {
        let (server, connection) = try await Self.server()
        defer { server.stopWithoutWaiting() }
        let home = try TestServer.makeDirectory()
        let folder = home.appendingPathComponent("intake")
        try FileManager().createDirectory(at: folder, withIntermediateDirectories: true)
        let config = folder.appendingPathComponent("config")
        try "[nightly]\nserver = \(connection[1])\nkey = \(connection[3])\n".write(to: config, atomically: true, encoding: .utf8)
        chmod(config.path, 0o644)
        let refused = try await Self.intake(["batches", "--profile", "nightly"], environment: ["XDG_CONFIG_HOME": home.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("others can read it (mode 644): run chmod 600 \(config.path)"))
        chmod(config.path, 0o600)
        let used = try await Self.intake(["batches", "--profile", "nightly"], environment: ["XDG_CONFIG_HOME": home.path])
        #expect(used.status == 0, "\(used.stderr)")
        let unknown = try await Self.intake(["batches", "--profile", "weekly"], environment: ["XDG_CONFIG_HOME": home.path])
        #expect(unknown.status == 2 && unknown.stderr.contains("has no [weekly] profile"))
    }

    @Test func runAndPushGiveTheSameObjects() async throws {
        let (server, connection) = try await Self.server()
        defer { server.stopWithoutWaiting() }
        let push = try await Self.intake(
            ["push"] + connection + ["--control", "\(Self.examples)/control.json", "--file", "data0=\(Self.examples)/data.json", "--wait"])
        #expect(push.status == 1)
        let pushed = try await Self.intake(["results"] + connection + [push.stdout.trimmingCharacters(in: .newlines)])

        let data = try TestServer.makeDirectory()
        let resultsFile = data.appendingPathComponent("results.ndjson")
        let run = try await Self.intake([
            "run", "--data", data.path, "--control", "\(Self.examples)/control.json", "--file", "data0=\(Self.examples)/data.json",
            "--results", resultsFile.path
        ])
        #expect(run.status == 1)
        if !TestPostgres.isSelectedBackend { #expect(run.stderr.contains("Created a new data directory at \(data.path)")) }
        let local = try String(contentsOf: resultsFile, encoding: .utf8)
        // Same records, statuses, changes and errors; only the refs may differ between two stores.
        func normalised(_ text: String) -> String { text.replacingOccurrences(of: #""ref":"[0-9a-z]+""#, with: "", options: .regularExpression) }
        #expect(normalised(local) == normalised(pushed.stdout))
        #expect(local.split(separator: "\n").count == 3)
    }

    @Test func versionAndHelpNameTheExitStatuses() async throws {
        let version = try await Self.intake(["--version"])
        #expect(version.status == 0 && version.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
        let help = try await Self.intake(["push", "--help"])
        #expect(help.stdout.contains("Exit status: 0 every record applied; 1 the batch finished with record errors"))
    }
}
