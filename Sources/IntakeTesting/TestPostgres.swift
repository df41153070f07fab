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
        let admin = try database(url: base, poolSize: 1)
        defer { admin.close() }
        try await admin.createDatabase(name)
        var components = URLComponents(string: base)!
        components.path = "/" + name
        return components.string!
    }

    /// Every suite starts at once on the test machine's two cores, and a connection to the shared
    /// server then took longer than a server's 10 s lease deadline to come (CI, 2026-12-07: every
    /// test on it failed within its first 35 s). Tests of the shared server wait longer; the
    /// deadline's own tests use servers of their own with the default.
    package static let leaseDeadline: Duration = .seconds(60)

    /// A connection pool to the shared server, waiting `leaseDeadline` for a connection.
    package static func database(url: String, poolSize: Int) throws -> PostgresDatabase {
        try PostgresDatabase(location: try PostgresLocation(url: url), poolSize: poolSize, leaseDeadline: leaseDeadline)
    }

    /// A store and blob storage on a new database.
    package static func newStore(lease: JobLease = JobLease()) async throws -> (PostgresBatchStore, PostgresBlobStorage) {
        let database = try database(url: try await newDatabaseURL(), poolSize: 2)
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
            let directory = FileManager().temporaryDirectory.appendingPathComponent("intake-test-pg-\(UUID().uuidString.prefix(8))").path
            return try ThrowawayScript.run(["start", directory, "\(56_000 + Int(getpid() % 4000))", "--fast", "--until-exit", "\(getpid())"])
        }
    }
}

/// `scripts/throwaway-postgres` with these arguments; returns what it printed.
enum ThrowawayScript {
    static func run(_ arguments: [String]) throws -> String {
        // Sources/IntakeTesting/TestPostgres.swift → the package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("scripts/throwaway-postgres").path
        let files = FileManager().temporaryDirectory.appendingPathComponent("intake-throwaway-\(UUID().uuidString.prefix(8))").path
        let output = files + ".out", errors = files + ".err"
        defer {
            unlink(output)
            unlink(errors)
        }
        // posix_spawn and waitpid rather than Foundation's Process, whose wait for the child hung
        // here while the test runner's other threads were busy.
        let status = try spawnAndWait(["/bin/bash", script] + arguments, stdout: output, stderr: errors)
        let printed = String(decoding: FileManager().contents(atPath: output) ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard status == 0, arguments.first != "start" || !printed.isEmpty else {
            let message = String(decoding: FileManager().contents(atPath: errors) ?? Data(), as: UTF8.self)
            throw TestPostgresUnavailable(description: "PostgreSQL is needed for these tests, and \(script) \(arguments.first ?? "") failed: \(message)")
        }
        return printed
    }
}

/// Runs a program with its output in files and waits for it; returns its exit status.
package func spawnAndWait(_ arguments: [String], stdout: String, stderr: String) throws -> Int32 {
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

/// A PostgreSQL cluster of a test's own, to stop and start again under a running Intake (the shared
/// server of `TestPostgres` must stay up for the other tests). Removed when the test process ends.
package final class PrivateTestCluster: Sendable {
    package let url: String
    private let directory: String

    /// Starts a new cluster on a free port of 127.0.0.1.
    package init(maxConnections: Int = 400) throws {
        directory = FileManager().temporaryDirectory.appendingPathComponent("intake-private-pg-\(UUID().uuidString.prefix(8))").path
        url = try ThrowawayScript.run([
            "start", directory, "\(try Self.freePort())", "--fast", "--until-exit", "\(getpid())", "--max-connections", "\(maxConnections)"
        ])
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`).
    package func crash() throws { _ = try ThrowawayScript.run(["crash", directory]) }

    /// Starts it again after `crash`.
    package func restart() throws { _ = try ThrowawayScript.run(["restart", directory]) }

    package func remove() { _ = try? ThrowawayScript.run(["stop", directory]) }

    /// A port nothing listens on now: bound to port 0, read back, released.
    private static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw TestPostgresUnavailable(description: "socket() failed") }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) == 0 && getsockname(socketFD, $0, &length) == 0 }
        }
        guard bound else { throw TestPostgresUnavailable(description: "could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
