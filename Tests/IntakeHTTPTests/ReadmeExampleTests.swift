import Foundation
import Testing

/// The README's quick-start commands, read from the README itself and run against a real server,
/// so the example cannot drift from what Intake does.
@Suite struct ReadmeExampleTests {
    static var root: URL { Fixtures.examples.deletingLastPathComponent() }

    /// The first ```sh block after `marker`, as lines.
    static func block(after marker: String) throws -> [String] {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: marker), "the README lost its marker \(marker)")
        let rest = readme[start.upperBound...]
        let open = try #require(rest.range(of: "```sh\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        return rest[open.upperBound..<close.lowerBound].split(separator: "\n").map(String.init)
    }

    @Test func quickStartCommandsDoWhatTheReadmeSays() async throws {
        let server = try await ServerProcess.start(data: try TestServer.makeDirectory())
        defer { server.stopWithoutWaiting() }
        let key = try #require(server.apiKey)
        let lines = try Self.block(after: "<!-- The block below is run by Tests/IntakeHTTPTests/ReadmeExampleTests.swift. -->")
        #expect(lines.first == "cd examples")
        #expect(lines.contains { $0.hasPrefix("export INTAKE_API_KEY=ik_...") })
        var script = "export INTAKE_SERVER=http://127.0.0.1:\(server.port)\n"
        for line in lines {
            if line.hasPrefix("export INTAKE_API_KEY=") {
                script += "export INTAKE_API_KEY=\(key)\n"
            } else if line == "cd examples" {
                script += "cd '\(Fixtures.examples.path)'\n"
            } else {
                // Each command's status and output, one after the other.
                let withoutComment = line.range(of: " #").map { String(line[..<$0.lowerBound]) } ?? line
                let command = withoutComment.replacingOccurrences(of: "swift run intake", with: "'\(ServerProcess.executable.path)'")
                script += "\(command) 2>&1; echo \"exit $?\"\n"
            }
        }
        let output = try await ClientCommandTests.runShell(script)
        let runs = output.components(separatedBy: "exit ").dropFirst().map { $0.prefix(1) }
        #expect(runs == ["1", "1", "1"], "\(output)")
        #expect(output.contains("dry-run: 3 records read, 3 applied, 0 failed, 0 unchanged, 1 errors"))
        #expect(output.contains("complete: 3 records read, 3 applied, 0 failed, 0 unchanged, 1 errors"))
        #expect(output.contains("complete: 3 records read, 3 applied, 0 failed, 3 unchanged, 1 errors"))
        #expect(output.contains("  Invalid email address for input field email: not-an-email (record 2)"))
    }

    @Test func theCurlClientWaitsAndExitsWithTheOutcome() async throws {
        let server = try await ServerProcess.start(data: try TestServer.makeDirectory())
        defer { server.stopWithoutWaiting() }
        let key = try #require(server.apiKey)
        let line = try #require(try Self.block(after: "The same with\nnothing but curl").first)
        #expect(line.hasPrefix("SERVER=http://localhost:8080 ./push.sh control.json data0 data.json dry-run"))
        let command = line.replacingOccurrences(of: "localhost:8080", with: "127.0.0.1:\(server.port)")
        let dry = try await ClientCommandTests.runShell(
            "cd '\(Fixtures.examples.path)' && INTAKE_API_KEY=\(key) \(command) 2>&1; echo \"exit $?\"")
        #expect(dry.contains("dry-run: 3 records read, 3 applied, 0 failed, 0 unchanged, 1 errors"))
        #expect(dry.hasSuffix("exit 1\n"), "\(dry)")
        let clean = try Fixtures.write(#"[{"first":"Ada","last":"Lovelace","email":"ada@example.ac.uk","job":"Analyst","username":"ada"}]"#)
        let applied = try await ClientCommandTests.runShell(
            "cd '\(Fixtures.examples.path)' && INTAKE_API_KEY=\(key) SERVER=http://127.0.0.1:\(server.port) ./push.sh control.json data0 '\(clean.path)' 2>&1; echo \"exit $?\""
        )
        #expect(applied.hasSuffix("exit 0\n"), "\(applied)")
        let refused = try await ClientCommandTests.runShell(
            "cd '\(Fixtures.examples.path)' && INTAKE_API_KEY=ik_wrong SERVER=http://127.0.0.1:\(server.port) ./push.sh control.json data0 data.json 2>&1; echo \"exit $?\""
        )
        #expect(refused.contains("Unauthorized") && refused.hasSuffix("exit 3\n"), "\(refused)")
    }
}
