import Foundation
import GRDB
import IntakeCore
import Testing

/// The `intake` command line, run as a real process against a data directory.
@Suite struct CLITests {
    private func intake(_ arguments: [String]) async throws -> String {
        try await Process.output(ServerProcess.executable.path, try await TestBackend.arguments(arguments))
    }

    @Test func apiKeysCreateListAndRevoke() async throws {
        let data = try TestServer.makeDirectory().path
        let created = try await intake(["apikey", "create", "--name", "script", "--scope", "read", "--data", data])
        let lines = created.split(separator: "\n")
        let key = String(try #require(lines.last))
        #expect(key.hasPrefix("ik_"))
        #expect(key.count == 67)

        let list = try await intake(["apikey", "list", "--data", data]).split(separator: "\n")
        #expect(list.count == 1)
        let fields = list[0].split(separator: "\t", omittingEmptySubsequences: false)
        #expect(fields.count == 8)
        #expect(fields[0] == "1")
        #expect(fields[1] == "script")
        #expect(fields[2] == "read")
        #expect(fields[4] == "never")
        #expect(fields[5] == "active")
        #expect(fields[6] == "never expires")
        #expect(fields[7] == "unrestricted")
        #expect(!list[0].contains(key))

        _ = try await intake(["apikey", "revoke", "1", "--data", data])
        let after = try await intake(["apikey", "list", "--data", data])
        #expect(after.hasSuffix("\trevoked\tnever expires\tunrestricted\n"))
        await #expect(throws: (any Error).self) { try await intake(["apikey", "create", "--name", "x", "--scope", "admin", "--data", data]) }
    }

    @Test func runImportsLocallyAndPrintsTheLogAndSummary() async throws {
        let data = try TestServer.makeDirectory().path
        let examples = Fixtures.examples.path
        // The example has an invalid e-mail address: the run finishes with a record error, exit 1.
        let dry = try await ClientCommandTests.intake([
            "run", "--data", data, "--control", "\(examples)/control.json",
            "--file", "data0=\(examples)/data.json", "--dry-run"
        ])
        #expect(dry.status == 1)
        let dryLines = dry.stdout.split(separator: "\n")
        #expect(dryLines.first?.hasPrefix("START: ") == true)
        #expect(dryLines.contains("Invalid email address for input field email: not-an-email (record 2)"))
        #expect(dryLines.last?.hasPrefix("dry-run: 3 records read, 3 applied, 0 failed, 0 unchanged, 1 errors (batch ") == true)

        let real = try await ClientCommandTests.intake([
            "run", "--data", data, "--control", "\(examples)/control.json",
            "--file", "data0=\(examples)/data.json"
        ])
        #expect(real.status == 1)
        #expect(real.stdout.split(separator: "\n").last?.hasPrefix("complete: 3 records read, 3 applied, 0 failed, 0 unchanged") == true)
        // The example loads people by username: the second real run changes nothing.
        let again = try await ClientCommandTests.intake([
            "run", "--data", data, "--control", "\(examples)/control.json",
            "--file", "data0=\(examples)/data.json"
        ])
        #expect(again.stdout.split(separator: "\n").last?.hasPrefix("complete: 3 records read, 3 applied, 0 failed, 3 unchanged") == true)

        let clean = try Fixtures.write(#"[{"first":"Ada","last":"Lovelace","email":"ada@example.ac.uk","job":"Analyst","username":"ada"}]"#)
        let allApplied = try await ClientCommandTests.intake([
            "run", "--data", data, "--control", "\(examples)/control.json", "--file", "data0=\(clean.path)"
        ])
        #expect(allApplied.status == 0)
    }

    /// `--max-errors` stops a run once that many errors were reported; what was committed stays.
    @Test func runStopsAfterMaxErrors() async throws {
        let data = try TestServer.makeDirectory().path
        let records = (0..<30_000).map { #"{"first":"P\#($0)","last":"L","email":"bad\#($0)","job":"J","username":"u\#($0)"}"# }
        let file = try Fixtures.write("[" + records.joined(separator: ",\n") + "]")
        let run = try await ClientCommandTests.intake([
            "run", "--data", data, "--control", "\(Fixtures.examples.path)/control.json", "--file", "data0=\(file.path)",
            "--max-errors", "10"
        ])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stdout.contains("(--max-errors 10); what was committed before stays."))
        #expect(run.stdout.split(separator: "\n").last?.hasPrefix("cancelled: ") == true)
    }

    @Test func runExitsNonZeroOnAnErrorState() async throws {
        let data = try TestServer.makeDirectory().path
        let broken = try Fixtures.write("[{\"first\":\"a\"},")
        do {
            _ = try await intake([
                "run", "--data", data, "--control", "\(Fixtures.examples.path)/control.json",
                "--file", "data0=\(broken.path)"
            ])
            Issue.record("expected a non-zero exit")
        } catch {
            // A malformed file stops the run in `error`: exit status 2.
            #expect("\(error)".contains("exited 2"))
        }
        let invalid = try Fixtures.write(#"{"dataImportControlFileVersion":0}"#)
        do {
            _ = try await intake(["run", "--data", data, "--control", invalid.path, "--file", "data0=\(broken.path)"])
            Issue.record("expected a non-zero exit")
        } catch {
            #expect("\(error)".contains("exited 2"))
            #expect("\(error)".contains("Control file does not specify model in the model property"))
        }
    }

    private func expectFailure(_ arguments: [String], exit code: Int, saying message: String) async {
        do {
            _ = try await intake(arguments)
            Issue.record("expected a non-zero exit")
        } catch {
            #expect("\(error)".contains("exited \(code)"))
            #expect("\(error)".contains(message))
        }
    }

    /// `intake run` goes through the same use cases as the API: a file name the control file does not
    /// specify is refused before anything runs, with the API's message.
    @Test func runRefusesFilesTheControlFileDoesNotName() async throws {
        let data = try TestServer.makeDirectory().path
        let control = "\(Fixtures.examples.path)/control.json"
        await expectFailure(
            ["run", "--data", data, "--control", control, "--file", "other=\(Fixtures.examples.path)/data.json"],
            exit: 2, saying: "No file specification for other in control file (and no DEFAULT entry)")
        await expectFailure(
            ["run", "--data", data, "--control", control, "--file", "data0=/nonexistent/people.json"],
            exit: 2, saying: "Cannot read the file /nonexistent/people.json")
    }

    /// A port in use is named, in one line, before the first start makes its one-time credentials.
    @Test func aPortInUseIsNamed() async throws {
        let server = try await ServerProcess.start(data: try TestServer.makeDirectory())
        defer { server.stopWithoutWaiting() }
        let other = try TestServer.makeDirectory().appendingPathComponent("second")
        let second = try await ClientCommandTests.intake(["serve", "--data", other.path, "--port", "\(server.port)"])
        #expect(second.status != 0)
        #expect(second.stderr.contains("Port \(server.port) on 127.0.0.1 is already in use by another process"))
        #expect(!second.stdout.contains("API key:"))
        #expect(!second.stderr.contains("errno"))
    }

    /// `intake validate`: the server's refusals, the place of a JSON syntax error, and what a run would
    /// log before its first record, without a server.
    @Test func validateChecksOfflineWithTheServersMessages() async throws {
        let ok = try await ClientCommandTests.intake(["validate", "\(Fixtures.examples.path)/control.json"])
        #expect(ok.status == 0 && ok.stdout == "OK\n")

        let syntax = try Fixtures.write("{\n  \"model\": \"haplo:person\",\n  \"files\": {x}\n}")
        let broken = try await ClientCommandTests.intake(["validate", syntax.path])
        #expect(broken.status == 2)
        #expect(broken.stderr == "\(syntax.path):3:13: Expected a string key in object\nNot JSON: \(syntax.path)\n")

        let invalid = try Fixtures.write(#"{"dataImportControlFileVersion":0}"#)
        let refused = try await ClientCommandTests.intake(["validate", invalid.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("Invalid control file:\n  Control file does not specify model in the model property"))

        let warned = try Fixtures.write(
            #"""
            {"dataImportControlFileVersion":0,"model":"haplo:person","files":{"DEFAULT":{"read":"json"}},
             "instructions":[{"action":"new","destination":"profile"},
              {"source":"a","destination":"nowhere","name":"dc:attribute:title"},
              {"source":"b","destination":"profile","name":"no:such:attribute"}]}
            """#)
        let warnings = try await ClientCommandTests.intake(["validate", warned.path])
        #expect(warnings.status == 0 && warnings.stdout == "OK, with 2 warnings\n")
        #expect(
            warnings.stderr
                == "warning: Unknown destination in field: nowhere (at instructions[1].destination; line 3, column 31)\n"
                + "warning: Unknown name in field no:such:attribute for destination profile\n")
        // --strict refuses without saying OK.
        let strict = try await ClientCommandTests.intake(["validate", "--strict", warned.path])
        #expect(strict.status == 2 && strict.stdout.isEmpty && strict.stderr.hasSuffix("Refused with --strict: 2 warnings\n"))

        // A misspelt action: where it is, and what was meant.
        let misspelt = try Fixtures.write(
            #"""
            {"dataImportControlFileVersion":0,"model":"haplo:person","files":{"DEFAULT":{"read":"json"}},
             "instructions":[{"action":"new","destination":"profile"},
              {"action":"if-exists","source":"a","then":[{"action":"laod","destination":"profile","using":"x"}]}]}
            """#)
        let typo = try await ClientCommandTests.intake(["validate", misspelt.path])
        #expect(typo.status == 2)
        #expect(
            typo.stderr
                == "Invalid control file:\n  Unknown action in instruction: laod (at instructions[1].then[0].action; line 3, column 56; did you mean load?)\n",
            "\(typo.stderr)")
    }

    /// Settings from the environment and INTAKE_CONFIG, refused loudly when unusable; the access log
    /// in JSON names method, path, status and key name, never the key.
    @Test func serverSettingsFromTheEnvironmentAndAFileWithAJSONAccessLog() async throws {
        let badPort = try await ClientCommandTests.intake(["serve"], environment: ["INTAKE_PORT": "eighty"])
        #expect(badPort.status == 2 && badPort.stderr == "Error: INTAKE_PORT must be a whole number, not eighty\n")
        let directory = try TestServer.makeDirectory()
        let config = directory.appendingPathComponent("intake.conf")
        try "# test\nlog-format = json\nbogus = 1\n".write(to: config, atomically: true, encoding: .utf8)
        let badFile = try await ClientCommandTests.intake(["serve"], environment: ["INTAKE_CONFIG": config.path])
        #expect(badFile.status == 2 && badFile.stderr.contains("\(config.path) line 3: unknown setting bogus"))
        try "# test\nlog-format = json\nport = 0\n".write(to: config, atomically: true, encoding: .utf8)

        let data = directory.appendingPathComponent("from-environment")
        let process = Process()
        process.executableURL = ServerProcess.executable
        process.arguments = ["serve", "--print-initial-credentials"]
        process.environment = ProcessInfo.processInfo.environment.merging(["INTAKE_CONFIG": config.path, "INTAKE_DATA": data.path]) { $1 }
        let output = Pipe()
        let errors = directory.appendingPathComponent("stderr")
        _ = FileManager().createFile(atPath: errors.path, contents: nil)
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let started = try await ServerProcess.readUntilListening(output.fileHandleForReading)
        let port = try #require(started.range(of: #"127\.0\.0\.1:(\d+)/"#, options: .regularExpression).map { started[$0].dropFirst(10).dropLast() })
        let key = try #require(started.split(separator: "\n").first { $0.contains("API key:") }?.split(separator: " ").last)
        _ = try await Curl.run(["-u", "haplo:\(key)", "http://127.0.0.1:\(port)/api/haplo-data-import-batch/status?batch=x"])
        process.terminate()
        process.waitUntilExit()
        #expect(FileManager().fileExists(atPath: data.appendingPathComponent("intake.sqlite").path))
        let log = try String(contentsOf: errors, encoding: .utf8)
        let line = try #require(log.split(separator: "\n").first { $0.contains(#""message":"request""#) })
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(fields["http.method"] == "GET" && fields["http.path"] == "/api/haplo-data-import-batch/status")
        #expect(fields["http.status"] == "400" && fields["intake.key"] == "initial")
        #expect(!log.contains(String(key)))
    }

    /// `intake purge` removes old batches' logs, results and data files, keeps objects, control
    /// files and files another batch still uses, and refuses to copy a purged batch.
    @Test func purgeRemovesOldFilesLogsAndResultsButKeepsObjects() async throws {
        let data = try TestServer.makeDirectory()
        let examples = Fixtures.examples.path
        let other = try Fixtures.write(#"[{"first":"Ada","last":"Lovelace","email":"ada@example.ac.uk","job":"Analyst","username":"ada"}]"#)
        for file in ["\(examples)/data.json", other.path] {
            _ = try await ClientCommandTests.intake([
                "run", "--data", data.path, "--control", "\(examples)/control.json", "--file", "data0=\(file)"
            ])
        }
        // Make every blob older than the quiet period.
        let blobs = data.appendingPathComponent("blobs")
        let old = Date().addingTimeInterval(-2 * 86_400)
        var blobPaths: [String] = []
        for folder in try FileManager().contentsOfDirectory(atPath: blobs.path) where folder != "tmp" {
            for name in try FileManager().contentsOfDirectory(atPath: blobs.appendingPathComponent(folder).path) {
                let path = blobs.appendingPathComponent(folder).appendingPathComponent(name).path
                try FileManager().setAttributes([.modificationDate: old], ofItemAtPath: path)
                blobPaths.append(path)
            }
        }
        #expect(blobPaths.count == 3)  // one control file, two data files

        let dry = try await ClientCommandTests.intake(["purge", "--data", data.path, "--older-than", "0", "--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.stdout.hasPrefix("Would purge 2 batches: 5 log lines, 4 results, 2 files ("), "\(dry)")
        #expect(blobPaths.allSatisfy { FileManager().fileExists(atPath: $0) })

        let notYet = try await ClientCommandTests.intake(["purge", "--data", data.path, "--older-than", "30"])
        #expect(notYet.stdout.hasPrefix("Purged 0 batches"))

        let real = try await ClientCommandTests.intake(["purge", "--data", data.path, "--older-than", "0"])
        #expect(real.stdout.hasPrefix("Purged 2 batches: 5 log lines, 4 results, 2 files ("), "\(real)")
        #expect(blobPaths.filter { FileManager().fileExists(atPath: $0) }.count == 1)  // the control file
        let database = data.appendingPathComponent("intake.sqlite").path
        let counts = try await DatabaseQueue(path: database).read { db in
            [
                try Int.fetchOne(db, sql: "SELECT count(*) FROM objects WHERE type LIKE 'std:type:person%'") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM batch_log") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM batch_results") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM batches WHERE purged IS NOT NULL") ?? -1
            ]
        }
        #expect(counts == [4, 0, 0, 2])
        #expect(real.stdout.hasSuffix("; 0 unreferenced files (0.0 MB)\n"), "\(real)")
        // Blobs nothing refers to go once they are an hour old; a fresh one stays.
        func storeBlob(_ text: String, age: TimeInterval) throws -> String {
            let hex = SHA256Hashing.hash(Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
            let folder = blobs.appendingPathComponent(String(hex.prefix(2)))
            try FileManager().createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent(hex).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager().setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: path)
            return path
        }
        let orphan = try storeBlob("refused form file", age: 2 * 3600)
        let fresh = try storeBlob("an upload in progress", age: 60)
        let again = try await ClientCommandTests.intake(["purge", "--data", data.path, "--older-than", "0"])
        #expect(again.stdout == "Purged 0 batches: 0 log lines, 0 results, 0 files (0.0 MB); 1 unreferenced files (0.0 MB)\n", "\(again)")
        #expect(!FileManager().fileExists(atPath: orphan) && FileManager().fileExists(atPath: fresh))
        #expect(blobPaths.filter { FileManager().fileExists(atPath: $0) }.count == 1, "the control file stays")

        // A purged batch cannot be copied: its files are gone.
        let purged = try #require(try await DatabaseQueue(path: database).read { db in try String.fetchOne(db, sql: "SELECT id FROM batches LIMIT 1") })
        let server = try await ServerProcess.start(data: data)
        defer { server.stopWithoutWaiting() }
        let key = try await ClientCommandTests.intake(["apikey", "create", "--name", "t", "--data", data.path])
        let copy = try await ClientCommandTests.intake([
            "copy", "--server", "http://127.0.0.1:\(server.port)", "--key", String(key.stdout.split(separator: "\n").last ?? ""), purged
        ])
        #expect(copy.status == 2)
        #expect(copy.stderr.contains("Batch \(purged) was purged on "), "\(copy)")
    }

    /// A first start whose stdout is not a terminal (a service manager's log) writes the one-time
    /// credentials to a file only its owner can read, and prints the file's path; the admin
    /// password is a bcrypt hash in the store. `intake admin` manages accounts.
    @Test func firstStartCredentialsGoToAPrivateFileAndAdminAccountsAreManaged() async throws {
        let data = try TestServer.makeDirectory().appendingPathComponent("service")
        let process = Process()
        process.executableURL = ServerProcess.executable
        process.arguments = ["serve", "--data", data.path, "--port", "0"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let started = try await ServerProcess.readUntilListening(output.fileHandleForReading)
        process.terminate()
        process.waitUntilExit()
        let file = data.appendingPathComponent("initial-credentials").path
        #expect(started.contains("they are in \(file) (readable by this user only)"))
        #expect(!started.contains("Admin password:") && !started.contains("ik_"))
        let attributes = try FileManager().attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let credentials = try String(contentsOfFile: file, encoding: .utf8)
        let password = try #require(credentials.split(separator: "\n").first { $0.contains("Admin password:") }?.split(separator: " ").last)
        let hash = try await DatabaseQueue(path: data.appendingPathComponent("intake.sqlite").path).read { db in
            try String.fetchOne(db, sql: "SELECT password_hash FROM admin_accounts WHERE name = 'admin'")
        }
        #expect(hash?.hasPrefix("$2b$12$") == true)
        #expect(hash?.contains(String(password)) == false)

        func admin(_ arguments: [String], password: String) async throws -> ClientCommandTests.Outcome {
            let stdin = try Fixtures.write(password + "\n")
            return try await ClientCommandTests.runShell(
                "'\(ServerProcess.executable.path)' admin \(arguments.joined(separator: " ")) --data '\(data.path)' < '\(stdin.path)' 2>&1; echo \"exit $?\""
            ).asOutcome
        }
        #expect(try await admin(["create", "ada"], password: "a long enough password").stdout.hasSuffix("exit 0\n"))
        let short = try await admin(["create", "bob"], password: "short")
        #expect(short.stdout == "The password must have at least 12 characters\nexit 2\n")
        let taken = try await admin(["create", "ada"], password: "a long enough password")
        #expect(taken.stdout == "An admin account named ada exists already\nexit 2\n")
        #expect(try await admin(["passwd", "ada"], password: "another long password").stdout.hasSuffix("exit 0\n"))
        let unknown = try await admin(["passwd", "zed"], password: "another long password")
        #expect(unknown.stdout == "There is no admin account named zed\nexit 2\n")
        #expect(try await admin(["disable", "ada"], password: "").stdout == "Disabled admin account ada.\nexit 0\n")
        let list = try await ClientCommandTests.intake(["admin", "list", "--data", data.path])
        #expect(list.stdout.split(separator: "\n").map { $0.split(separator: "\t").first.map(String.init) } == ["ada", "admin"])
        #expect(list.stdout.split(separator: "\n").first?.hasSuffix("\tdisabled\tadmin") == true)
        #expect(try await admin(["enable", "ada"], password: "").stdout == "Enabled admin account ada.\nexit 0\n")
        #expect(try await admin(["delete", "ada"], password: "").stdout == "Deleted admin account ada.\nexit 0\n")
        #expect(try await admin(["delete", "ada"], password: "").stdout == "There is no admin account named ada\nexit 2\n")
    }
}

extension String {
    /// Shell output with the command's status echoed last, as an outcome.
    fileprivate var asOutcome: ClientCommandTests.Outcome { ClientCommandTests.Outcome(status: 0, stdout: self, stderr: "") }
}
