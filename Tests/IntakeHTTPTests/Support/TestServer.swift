import Foundation
import Hummingbird
import IntakeAdmin
import IntakeCore
import IntakeHTTP
import IntakePostgres
import IntakeRunner
import IntakeSQLite
import IntakeStore
import IntakeTesting
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// A real Intake server on a loopback port, built by the same `buildApplication` as `intake serve`,
/// over a real SQLite file in a temporary directory, or, with `INTAKE_TEST_BACKEND=postgres`, over a
/// new PostgreSQL database (its URL kept in the directory, so a restart on the directory reopens it).
final class TestServer: @unchecked Sendable {
    let directory: URL
    let store: any BatchStore
    let blobs: any BlobStorage
    let port: Int
    let apiKey: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let slot: HeldSlot

    /// See `ServerSlots`: twenty-four servers use at most about 250 connections.
    static let postgresSlots = ServerSlots(count: 24)

    var base: String { "http://127.0.0.1:\(port)" }

    /// Webhook retries in seconds rather than minutes, so a test sees several attempts.
    static let webhookPolicy = DeliveryPolicy(firstRetry: 1, longestWait: 2, giveUpAfter: 60, timeout: 2, lease: 10)

    static func makeDirectory() throws -> URL {
        let url = FileManager().temporaryDirectory.appendingPathComponent("intake-test-\(UUID().uuidString)")
        try FileManager().createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func start(
        directory: URL? = nil, maxUploadBytes: Int64 = 4 << 30, apiKey: String? = nil,
        scope: APIScope = .all, schema: Schema = StandardSchema.make(),
        headerTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(60),
        metricsRequireKey: Bool = false, busyTimeout: TimeInterval = 10,
        failedAuthenticationLimit: Int = 1000, webhookPolicy: DeliveryPolicy = TestServer.webhookPolicy,
        webhookPollInterval: Duration? = nil, wrapBlobs: (@Sendable (any BlobStorage) -> any BlobStorage)? = nil
    ) async throws -> TestServer {
        let directory = try directory ?? makeDirectory()
        var slots: ServerSlots?
        if TestPostgres.isSelectedBackend, await postgresSlots.take() { slots = postgresSlots }
        let slot = HeldSlot(slots)
        let (store, blobs, key, environment) = try await prepare(
            directory, apiKey: apiKey, scope: scope, schema: schema, busyTimeout: busyTimeout, wrapBlobs: wrapBlobs)
        let (log, logger) = TestServer.capturingLogger()
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let app = buildApplication(
            configuration: ServerConfiguration(
                host: "127.0.0.1", port: 0, maxUploadBytes: maxUploadBytes,
                headerTimeout: headerTimeout, idleTimeout: idleTimeout,
                metricsRequireKey: metricsRequireKey,
                failedAuthenticationLimit: failedAuthenticationLimit, webhookPolicy: webhookPolicy,
                webhookPollInterval: webhookPollInterval),
            environment: environment, logger: logger,
            additionalRoutes: try AdminUI(environment: environment, maxUploadBytes: maxUploadBytes, behindTLS: false, logger: logger).addRoutes,
            onServerRunning: { port in portContinuation.yield(port) })
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CocoaError(.featureUnsupported) }
        return TestServer(directory: directory, store: store, blobs: blobs, port: port, apiKey: key, group: group, task: task, log: log, slot: slot)
    }

    /// A server's logger, keeping what it logs at warning level and above for the test to read.
    static func capturingLogger() -> (CapturedLog, Logger) {
        let log = CapturedLog()
        var logger = Logger(label: "test") { _ in CapturingLogHandler(log: log) }
        logger.logLevel = .warning
        return (log, logger)
    }

    /// The store of a test server with its key and the standard lists: what `start` and
    /// `RoutedServer` both begin with.
    static func prepare(
        _ directory: URL, apiKey: String? = nil, scope: APIScope = .all, schema: Schema = StandardSchema.make(),
        busyTimeout: TimeInterval = 10, wrapBlobs: (@Sendable (any BlobStorage) -> any BlobStorage)? = nil
    ) async throws -> (store: any BatchStore, blobs: any BlobStorage, key: String, environment: ImportEnvironment) {
        var (store, blobs) = try await openStorage(directory, busyTimeout: busyTimeout)
        if let wrapBlobs { blobs = wrapBlobs(blobs) }
        let key: String
        if let apiKey {
            key = apiKey
        } else {
            key = APIKeyHashing.newKey()
            _ = try await store.createAPIKey(name: "test", scope: scope, hash: APIKeyHashing.hash(key), now: Date())
        }
        try await store.ensureListObjects(schema.listObjects, now: Date())
        return (store, blobs, key, ImportEnvironment(store: store, blobs: blobs, models: ModelRegistry(schema: schema)))
    }

    /// The backend the tests run against (see the type's comment).
    static func openStorage(_ directory: URL, busyTimeout: TimeInterval = 10) async throws -> (any BatchStore, any BlobStorage) {
        guard TestPostgres.isSelectedBackend else {
            return (
                try SQLiteBatchStore(path: directory.appendingPathComponent("intake.sqlite").path, busyTimeout: busyTimeout),
                try LocalBlobStorage(root: directory.appendingPathComponent("blobs"))
            )
        }
        let url = try await TestBackend.databaseURL(for: directory)
        let database = try PostgresDatabase(location: try PostgresLocation(url: url), poolSize: 6)
        return (try await PostgresBatchStore(database: database), PostgresBlobStorage(database: database))
    }

    /// Uploads begun and neither finished nor thrown away: temporary files, or chunks in the database
    /// (thrown away in the background there, so this waits up to two seconds for them to go).
    func partialUploads() async throws -> Int {
        if let local = blobs as? LocalBlobStorage {
            return try FileManager().contentsOfDirectory(atPath: local.root.appendingPathComponent("tmp").path).count
        }
        let database = try #require(blobs as? PostgresBlobStorage)
        var count = try await database.unfinishedUploads()
        for _ in 0..<20 where count > 0 {
            try await Task.sleep(for: .milliseconds(100))
            count = try await database.unfinishedUploads()
        }
        return count
    }

    /// What the server logged at warning level and above.
    let log: CapturedLog

    private init(
        directory: URL, store: any BatchStore, blobs: any BlobStorage, port: Int, apiKey: String,
        group: ServiceGroup, task: Task<Void, any Error>, log: CapturedLog, slot: HeldSlot
    ) {
        self.slot = slot
        self.log = log
        self.directory = directory
        self.store = store
        self.blobs = blobs
        self.port = port
        self.apiKey = apiKey
        self.group = group
        self.task = task
    }

    /// Runs `body` with this server, then stops the server, whether `body` returned or threw, before
    /// the test goes on: `try await TestServer.start().scoped { server in … }`.
    func scoped<T>(_ body: (TestServer) async throws -> T) async throws -> T {
        let value: T
        do {
            value = try await body(self)
        } catch {
            await stop()
            throw error
        }
        await stop()
        return value
    }

    /// Graceful shutdown, as on SIGTERM: the worker stops after its current chunk.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        slot.giveBack()
    }
}

/// What makes a data directory of the tests a PostgreSQL database in the PostgreSQL pass
/// (`INTAKE_TEST_BACKEND=postgres`): a new database per directory, its URL kept in the directory.
enum TestBackend {
    static func databaseURL(for directory: URL) async throws -> String {
        let saved = directory.appendingPathComponent("postgres-url")
        if let existing = try? String(contentsOf: saved, encoding: .utf8) { return existing }
        try FileManager().createDirectory(at: directory, withIntermediateDirectories: true)
        let url = try await TestPostgres.newDatabaseURL()
        try url.write(to: saved, atomically: true, encoding: .utf8)
        return url
    }

    /// An `intake` command line as the tests give it, with `--database` beside its `--data` in the
    /// PostgreSQL pass, so the command works on that database.
    static func arguments(_ arguments: [String]) async throws -> [String] {
        guard TestPostgres.isSelectedBackend, !arguments.contains("--database"), let index = arguments.firstIndex(of: "--data"), index + 1 < arguments.count
        else { return arguments }
        return arguments + ["--database", try await databaseURL(for: URL(fileURLWithPath: arguments[index + 1]))]
    }
}

/// Where a running Intake answers, and the key to use.
protocol ServerEndpoint: Sendable {
    var base: String { get }
    var apiKey: String { get }
    func send(_ request: TestRequest) async throws -> Curl.Result
}

extension ServerEndpoint {
    /// By curl, on the server's socket.
    func send(_ request: TestRequest) async throws -> Curl.Result {
        var arguments = request.method == "GET" ? [] : ["-X", request.method]
        switch request.body {
        case .none: break
        case .form(let fields): arguments += fields.flatMap { ["-d", "\($0.0)=\($0.1)"] }
        case .multipart(let parts): arguments += Self.curlParts(parts)
        }
        return try await Curl.run(arguments + ["--user", "haplo:\(request.key)", base + request.path])
    }

    /// `-F name=value` and `-F name=@file`.
    static func curlParts(_ parts: [(String, TestRequest.Part)]) -> [String] {
        parts.flatMap { name, part in
            switch part {
            case .text(let value): ["-F", "\(name)=\(value)"]
            case .file(let url): ["-F", "\(name)=@\(url.path)"]
            }
        }
    }
}

extension TestServer: ServerEndpoint {}

/// A server this test did not start in-process (a child process).
struct RemoteServer: ServerEndpoint {
    let port: Int
    let apiKey: String
    var base: String { "http://127.0.0.1:\(port)" }
}

/// Runs the real `curl`, the original API's own client.
enum Curl {
    struct Result {
        var status: Int
        var body: String
        var headers: String
        /// The body's bytes, for bodies that are not UTF-8 text.
        var data = Data()
    }

    static func run(_ arguments: [String], stdin: String? = nil) async throws -> Result {
        let dir = FileManager().temporaryDirectory
        let bodyFile = dir.appendingPathComponent("curl-body-\(UUID().uuidString)")
        let headerFile = dir.appendingPathComponent("curl-headers-\(UUID().uuidString)")
        defer {
            try? FileManager().removeItem(at: bodyFile)
            try? FileManager().removeItem(at: headerFile)
        }
        let output = try await Process.output(
            "/usr/bin/env",
            [
                "curl", "-s", "-o", bodyFile.path, "-D", headerFile.path,
                "-w", "%{http_code}"
            ] + arguments)
        let data = (try? Data(contentsOf: bodyFile)) ?? Data()
        let headers = (try? String(contentsOf: headerFile, encoding: .utf8)) ?? ""
        return Result(
            status: Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, body: String(data: data, encoding: .utf8) ?? "",
            headers: headers, data: data)
    }
}

/// Runs blocking work on a thread of its own. Blocking calls (pipes, waitUntilExit) must never run on
/// the cooperative pool: with two cores, two blocked tests would starve the in-process server.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

extension Process {
    /// Runs a program to the end and returns its stdout; throws when it exits non-zero.
    ///
    /// Spawned with posix_spawn, not Foundation's `Process`: with the whole suite running at once the
    /// test process holds over a thousand descriptors, and `Process.run()` then crashed copying
    /// their numbers (SIGSEGV in memmove). curl runs through here hundreds of times.
    static func output(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: URL? = nil
    ) async throws -> String {
        try await onOwnThread {
            let files = FileManager().temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString)").path
            let (output, errors) = (files + ".out", files + ".err")
            defer {
                unlink(output)
                unlink(errors)
            }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            // A working directory through the shell (glibc's addchdir is not in Swift's Glibc module).
            let command =
                currentDirectory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0.path, executable] + arguments } ?? [executable] + arguments
            let argv = command.map { strdup($0) } + [nil]
            let variables = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { for pointer in argv + variables { free(pointer) } }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, variables)
            guard spawned == 0 else {
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "could not run \(executable): \(String(cString: strerror(spawned)))"])
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            let data = FileManager().contents(atPath: output) ?? Data()
            guard exitStatus == 0 else {
                let message = String(decoding: FileManager().contents(atPath: errors) ?? Data(), as: UTF8.self)
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(arguments) exited \(exitStatus): \(message)"])
            }
            return String(decoding: data, as: UTF8.self)
        }
    }
}

/// Test fixtures: the shipped example files and scratch files.
enum Fixtures {
    static var examples: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples")
    }

    /// A control file that loads a person by ref, or creates one, and sets name and job title.
    static func upsertControl(fileName: String = "data0") throws -> URL {
        try write(
            #"""
            {"dataImportControlFileVersion":0,"model":"haplo:person","files":{"\#(fileName)":{"read":"json"}},
             "instructions":[
              {"source":"ref","destination":"load:by-ref","name":"ref","filters":["haplo:string-to-ref"]},
              {"action":"load","destination":"profile","using":"load:by-ref","otherwise":[{"action":"new","destination":"profile"}]},
              {"source":"name","destination":"profile","name":"dc:attribute:title"},
              {"source":"job","destination":"profile","name":"std:attribute:job-title"}]}
            """#)
    }

    static func write(_ text: String, name: String = "file-\(UUID().uuidString)") throws -> URL {
        let url = FileManager().temporaryDirectory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}

/// Log lines of one test server, each rendered as "message key=value …".
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

struct CapturingLogHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
        log.append(([event.message.description] + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " "))
    }
}
