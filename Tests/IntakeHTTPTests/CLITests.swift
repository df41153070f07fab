import Foundation
import IntakeCore
import Testing

/// The `intake` command line, run as a real process against a data directory.
@Suite struct CLITests {
    private func intake(_ arguments: [String]) async throws -> String {
        try await Process.output(ServerProcess.executable.path, arguments)
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
        #expect(fields.count == 6)
        #expect(fields[0] == "1")
        #expect(fields[1] == "script")
        #expect(fields[2] == "read")
        #expect(fields[4] == "never")
        #expect(fields[5] == "active")
        #expect(!list[0].contains(key))

        _ = try await intake(["apikey", "revoke", "1", "--data", data])
        let after = try await intake(["apikey", "list", "--data", data])
        #expect(after.hasSuffix("\trevoked\n"))
        await #expect(throws: (any Error).self) { try await intake(["apikey", "create", "--name", "x", "--scope", "admin", "--data", data]) }
    }

    @Test func runImportsLocallyAndPrintsTheLogAndSummary() async throws {
        let data = try TestServer.makeDirectory().path
        let examples = Fixtures.examples.path
        let dry = try await intake([
            "run", "--data", data, "--control", "\(examples)/control.json",
            "--file", "data0=\(examples)/data.json", "--dry-run"
        ])
        let dryLines = dry.split(separator: "\n")
        #expect(dryLines.first?.hasPrefix("START: ") == true)
        #expect(dryLines.contains("Invalid email address for input field email: not-an-email (record 2)"))
        #expect(dryLines.last?.hasPrefix("dry-run: 3 records read, 3 applied, 0 failed, 0 unchanged, 1 errors (batch ") == true)

        let real = try await intake([
            "run", "--data", data, "--control", "\(examples)/control.json",
            "--file", "data0=\(examples)/data.json"
        ])
        #expect(real.split(separator: "\n").last?.hasPrefix("complete: 3 records read, 3 applied") == true)
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
            #expect("\(error)".contains("exited 1"))
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
}
