import Foundation
import IntakePostgres
import IntakeStore

/// PostgreSQL for the tests: a fresh database per test on one server.
///
/// The server is the one `INTAKE_TEST_POSTGRES_URL` names (`.ci/run` starts a throw-away cluster
/// and sets it), else a throw-away cluster this test process starts itself with
/// `scripts/throwaway-postgres` (stopped once the process ends). Without PostgreSQL's binaries
/// the tests that need it fail with what to install: they are never skipped.
package enum TestPostgres {
    /// Set in the environment to run the HTTP and CLI tests against PostgreSQL instead of SQLite.
    package static var isSelectedBackend: Bool { ProcessInfo.processInfo.environment["INTAKE_TEST_BACKEND"] == "postgres" }

    private static let server = ServerTask()

    /// The URL of a new, empty database.
    package static func newDatabaseURL() async throws -> String {
        let base = try await server.url()
        let name = "intake_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try PostgresDatabase(location: try PostgresLocation(url: base), poolSize: 1)
        defer { admin.close() }
        try await admin.createDatabase(name)
        var components = URLComponents(string: base)!
        components.path = "/" + name
        return components.string!
    }

    /// A store and blob storage on a new database.
    package static func newStore(lease: JobLease = JobLease()) async throws -> (PostgresBatchStore, PostgresBlobStorage) {
        let database = try PostgresDatabase(location: try PostgresLocation(url: try await newDatabaseURL()), poolSize: 4)
        return (try await PostgresBatchStore(database: database, lease: lease), PostgresBlobStorage(database: database))
    }

    /// Starts (once) the server the tests share.
    private actor ServerTask {
        private var started: Result<String, any Error>?

        func url() throws -> String {
            if let started { return try started.get() }
            let result = Result { try Self.start() }
            started = result
            return try result.get()
        }

        private static func start() throws -> String {
            if let url = ProcessInfo.processInfo.environment["INTAKE_TEST_POSTGRES_URL"], !url.isEmpty { return url }
            // Sources/IntakeTesting/TestPostgres.swift → the package root.
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let script = root.appendingPathComponent("scripts/throwaway-postgres").path
            let directory = FileManager().temporaryDirectory.appendingPathComponent("intake-test-pg-\(UUID().uuidString.prefix(8))").path
            let port = 56_000 + Int(getpid() % 4000)
            let output = directory + ".out", errors = directory + ".err"
            defer {
                unlink(output)
                unlink(errors)
            }
            // posix_spawn and waitpid rather than Foundation's Process, whose wait for the child hung
            // here while the test runner's other threads were busy.
            let status = try spawnAndWait(
                ["/bin/bash", script, "start", directory, "\(port)", "--fast", "--until-exit", "\(getpid())"], stdout: output, stderr: errors)
            let url = String(decoding: FileManager().contents(atPath: output) ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let message = String(decoding: FileManager().contents(atPath: errors) ?? Data(), as: UTF8.self)
            guard status == 0, !url.isEmpty else {
                throw TestPostgresUnavailable(
                    description: "PostgreSQL is needed for these tests and could not be started (\(script)): \(message)")
            }
            return url
        }
    }
}

/// Runs a program with its output in files and waits for it; returns its exit status.
func spawnAndWait(_ arguments: [String], stdout: String, stderr: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var pid: pid_t = 0
    let argv = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
    guard spawned == 0 else { throw TestPostgresUnavailable(description: "could not run \(arguments[0]): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xff
}

package struct TestPostgresUnavailable: Error, CustomStringConvertible {
    package let description: String
}
