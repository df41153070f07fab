import Foundation
import IntakeStore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization
import _ConnectionPoolModule

/// Where the PostgreSQL database is, read from a `postgres://user:password@host:port/database` URL.
///
/// `sslmode` in the query works as in libpq for the three values that matter: `disable`, `prefer`
/// (the default: TLS when the server offers it) and `require`. The password may also come from
/// `PGPASSWORD`, so it need not appear in a process list.
package struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int
    package var user: String
    package var password: String?
    package var database: String
    package var sslMode: String

    package init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw PostgresLocationError("The database URL must look like postgres://user:password@host:5432/database, not \(text)")
        }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? 5432
        user = components.user.flatMap { $0.removingPercentEncoding } ?? environment["PGUSER"] ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding } ?? environment["PGPASSWORD"]
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard ["disable", "prefer", "require"].contains(sslMode) else {
            throw PostgresLocationError("sslmode must be disable, prefer or require, not \(sslMode)")
        }
    }

    /// The URL without its password, for logs.
    package var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch sslMode {
            case "disable": .disable
            case "require": .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        return PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    func clientConfiguration(poolSize: Int) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "disable": .disable
            case "require": .require(.makeClientConfiguration())
            default: .prefer(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        return configuration
    }
}

package struct PostgresLocationError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

/// A pool of connections to one PostgreSQL database, shared by the store and the blob storage.
///
/// Async callers lease a connection per call or transaction. Synchronous callers (an import run's
/// writer thread, a reader pulling a stored file) lease one through `withBlockingConnection` and wait
/// on each query's future: they run on threads of their own, never on an event loop.
package final class PostgresDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger
    package let location: PostgresLocation
    private let running: Task<Void, Never>
    private let idleBlocking = Mutex<[BlockingConnection]>([])
    private let nextConnectionID = Atomic<Int>(1_000_000)

    /// Connects lazily: the first query opens the first connection. `poolSize` bounds the connections
    /// this process opens (the server's `max_connections` bounds all nodes together).
    package init(
        location: PostgresLocation, poolSize: Int = 10, leaseDeadline: Duration = PostgresDatabase.defaultLeaseDeadline,
        logger: Logger = Logger(label: "intake.postgres")
    ) throws {
        self.location = location
        self.leaseDeadline = leaseDeadline
        self.logger = logger
        // The pool's own chatter (such as a lease asked for a moment before `run()` has started) is
        // not for operators; failures reach callers as errors.
        var background = logger
        background.logLevel = .error
        let client = PostgresClient(configuration: try location.clientConfiguration(poolSize: poolSize), backgroundLogger: background)
        self.client = client
        running = Task { await client.run() }
    }

    /// Closes every connection; queries after this fail.
    package func close() {
        running.cancel()
        closeIdleConnections()
    }

    deinit {
        running.cancel()
        closeIdleConnections()
    }

    /// A connection must be closed before it goes (postgres-nio asserts so); each is kept until then.
    private func closeIdleConnections() {
        for idle in idleBlocking.withLock({ idle in
            defer { idle = [] }; return idle
        }) {
            let connection = idle.connection
            connection.close().whenComplete { _ in _ = connection }
        }
    }

    /// How many connections the server allows to ordinary users, and how many are open now (all
    /// users, all databases): for the start-up check that this node's pool fits.
    package func connectionLimits() async throws -> (allowed: Int, open: Int) {
        let row = try await query(
            """
            SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int,
                   (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
            """
        ).rows.first
        let (allowed, open) = try row?.decode((Int, Int).self) ?? (0, 0)
        return (allowed, open)
    }

    /// The most connections this process opens: the pool for requests, and those the import runs
    /// wait on (a writer's and a reader's each, kept idle up to `maxIdleBlocking`).
    package static func connectionsAtMost(poolSize: Int, workers: Int) -> Int {
        poolSize + max(maxIdleBlocking, 2 * workers)
    }

    /// Creates a database on the same server (tests and set-up scripts); `name` must be a plain
    /// identifier.
    package func createDatabase(_ name: String) async throws {
        precondition(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "not a plain identifier: \(name)")
        try await query("CREATE DATABASE \(unescaped: name)")
    }

    // MARK: Async

    /// One statement on any pooled connection.
    @discardableResult
    func query(_ query: PostgresQuery) async throws -> PostgresQueryResult {
        try await withConnection { connection in try await connection.query(query) }
    }

    /// How long a request waits for a pooled connection. While the server is down the pool keeps
    /// requests waiting until its circuit breaker trips (about a minute); a client is better told
    /// `503` and when to come back. Only the wait for the lease is bounded, never the work.
    package static let defaultLeaseDeadline: Duration = .seconds(10)
    let leaseDeadline: Duration

    func withConnection<T: Sendable>(_ body: @escaping @Sendable (AsyncConnection) async throws -> T) async throws -> T {
        let lent = LeaseFlag()
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await self.client.withConnection { connection in
                        lent.set()
                        return try await body(AsyncConnection(connection: connection, logger: self.logger))
                    }
                }
                group.addTask {
                    try await Task.sleep(for: self.leaseDeadline)
                    if lent.isSet { return nil }
                    throw StoreUnavailable(reason: "no PostgreSQL connection could be had within \(self.leaseDeadline.components.seconds) s")
                }
                while let answer = try await group.next() {
                    if let value = answer {
                        group.cancelAll()
                        return value
                    }
                }
                throw StoreUnavailable(reason: "the PostgreSQL request ended without an answer")
            }
        } catch let error as PSQLError {
            throw releasingIdleOnRefusal(Self.translate(error))
        } catch let error as ConnectionPoolError {
            // The pool gave up making connections (the server is down, or refuses more): the store
            // is unavailable for now, not broken.
            throw releasingIdleOnRefusal(StoreUnavailable(reason: "the PostgreSQL database cannot be reached (\(error))"))
        } catch let error as StoreUnavailable {
            throw releasingIdleOnRefusal(error)
        }
    }

    /// When connections are short (the server refuses more, or none could be leased in time), the
    /// idle blocking connections are closed: kept, they hold server slots that no one here is using,
    /// and two nodes that each hoarded some were seen to refuse each other's pools for good, every
    /// run paused and resumed in a loop while its own idle connections took the slots it needed.
    private func releasingIdleOnRefusal(_ error: any Error) -> any Error {
        if error is StoreUnavailable { closeIdleConnections() }
        return error
    }

    /// `body` in one transaction: committed when it returns, rolled back when it throws (its error is
    /// rethrown as it is, so `StoreError`s reach the caller).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (AsyncConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.query("BEGIN")
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT")
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
        }
    }

    static func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) -> EventLoopFuture<PostgresQueryResult> {
        connection.query(query, logger: logger)
    }

    /// A lost or refused connection is the store being unavailable (the API answers 503), and so is
    /// a server that is shutting down, starting up or out of connections; other errors the server
    /// reports about a statement stay as they are.
    static func translate(_ error: PSQLError) -> any Error {
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown:
            return StoreUnavailable(reason: "the PostgreSQL database cannot be reached (\(error.code))")
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            // 08: connection exceptions; 57P01-57P03: shutting down, crashed, starting up; 53300:
            // too many connections; 40001/40P01 are left to the caller (a transaction to retry).
            if state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state) {
                let message = error.serverInfo?[.message] ?? state
                return StoreUnavailable(reason: "the PostgreSQL server refused the work (\(state): \(message))")
            }
            return error
        default:
            return error
        }
    }

    /// How long a synchronous caller waits for one answer before it gives the connection up. A chunk's
    /// statements take well under a second; only a server that went away without closing the
    /// connection (a stopped machine, a dropped network) makes a wait this long, and then waiting on
    /// would leave the run stuck for good with its lease renewed.
    static let answerDeadline: TimeAmount = .seconds(60)
    static let connectDeadline: TimeAmount = .seconds(15)

    // MARK: Blocking

    /// Lends a connection for synchronous work on the calling thread (an import run's writer thread,
    /// a reader pulling a stored file), which must not be an event loop.
    ///
    /// These connections are kept apart from the pool: `PostgresClient` leases only to async
    /// callers, and bridging to it would park a thread of the cooperative pool until another of its
    /// threads ran the lease, which on a two-core machine can deadlock. A connection made here is
    /// driven by NIO's event loops alone, and its futures are waited on. Idle ones are kept for the
    /// next caller (at most `maxIdleBlocking`), with the statements prepared on them.
    func withBlockingConnection<T>(_ body: (BlockingConnection) throws -> T) throws -> T {
        let connection = try takeBlockingConnection()
        let result: T
        do {
            result = try body(connection)
        } catch {
            giveBack(connection)
            throw error
        }
        giveBack(connection)
        return result
    }

    private func takeBlockingConnection() throws -> BlockingConnection {
        if let idle = idleBlocking.withLock({ $0.popLast() }), !idle.connection.isClosed { return idle }
        let id = nextConnectionID.add(1, ordering: .relaxed).newValue
        do {
            let connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: try location.connectionConfiguration(), id: id, logger: logger
            ).wait(within: Self.connectDeadline, what: "connect") {}
            return BlockingConnection(connection: connection, logger: logger, statements: PreparedStatements())
        } catch {
            throw releasingIdleOnRefusal((error as? PSQLError).map(Self.translate) ?? error)
        }
    }

    private func giveBack(_ leased: BlockingConnection) {
        let connection = leased.connection
        guard !connection.isClosed else { return }
        let kept = idleBlocking.withLock { idle -> Bool in
            guard idle.count < Self.maxIdleBlocking else { return false }
            idle.append(leased)
            return true
        }
        if !kept { connection.close().whenComplete { _ in _ = connection } }
    }

    static let maxIdleBlocking = 4
}

/// Whether a pooled connection was lent to a request (then its wait is over, and no deadline
/// applies to the work).
final class LeaseFlag: Sendable {
    private let lent = Atomic<Bool>(false)
    func set() { lent.store(true, ordering: .releasing) }
    var isSet: Bool { lent.load(ordering: .acquiring) }
}

/// A leased connection used from async code.
struct AsyncConnection: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    @discardableResult
    func query(_ query: PostgresQuery) async throws -> PostgresQueryResult {
        do {
            return try await PostgresDatabase.run(query, on: connection, logger: logger).get()
        } catch let error as PSQLError {
            throw PostgresDatabase.translate(error)
        }
    }
}

/// A leased connection used synchronously: each query waits for its answer.
struct BlockingConnection: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    let statements: PreparedStatements

    /// Closes the connection after a wait ran out: the query it waited for fails, and a closed
    /// connection is never lent again.
    private func abandon() {
        let connection = connection
        connection.close().whenComplete { _ in _ = connection }
    }

    @discardableResult
    func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        do {
            return try PostgresDatabase.run(query, on: connection, logger: logger).wait(within: PostgresDatabase.answerDeadline, what: "answer") {
                abandon()
            }
        } catch let error as PSQLError {
            throw PostgresDatabase.translate(error)
        }
    }

    /// Runs `sql` as a named prepared statement, prepared on this connection the first time: later
    /// runs are only bound and executed, not parsed and planned again (a per-record lookup spent
    /// more time being planned than executed). Parameters are sent in binary, so `sql` casts each
    /// placeholder to the type of the value bound to it (`$1::bigint` for an `Int64`).
    func execute(prepared sql: String, _ binds: [PostgresData]) throws -> [PostgresRow] {
        do {
            let statement: PreparedQuery
            if let known = statements[sql] {
                statement = known
            } else {
                statement = try connection.prepare(query: sql).wait(within: PostgresDatabase.answerDeadline, what: "answer") { abandon() }
                statements[sql] = statement
            }
            return try statement.execute(binds).wait(within: PostgresDatabase.answerDeadline, what: "answer") { abandon() }
        } catch let error as PSQLError {
            throw PostgresDatabase.translate(error)
        }
    }
}

extension PostgresRow {
    /// The cells of a row answered to `execute(prepared:_:)`. Their values are binary, as every
    /// result postgres-nio asks for, but its prepared statements (1.33) describe the columns as
    /// text, which `decode` would misread for anything but strings.
    var preparedCells: [PostgresCell] {
        map { cell in
            var binary = cell
            binary.format = .binary
            return binary
        }
    }
}

/// The statements prepared on one blocking connection, by their SQL. Used only by whoever holds the
/// connection (one thread at a time), so the lock is never waited for; it is what lets the compiler
/// check that.
final class PreparedStatements: Sendable {
    private let bySQL = Mutex<[String: PreparedQuery]>([:])

    subscript(sql: String) -> PreparedQuery? {
        get { bySQL.withLock { $0[sql] } }
        set { bySQL.withLock { $0[sql] = newValue } }
    }
}

// MARK: Reading rows

extension PostgresRow {
    /// Columns by name.
    var columns: PostgresRandomAccessRow { makeRandomAccess() }
}

extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }

    func date(_ column: String) throws -> Date { Date(timeIntervalSince1970: TimeInterval(try value(column, as: Int64.self))) }
    func optionalDate(_ column: String) throws -> Date? {
        try value(column, as: Int64?.self).map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }
}

extension PostgresQueryResult {
    /// How many rows an INSERT, UPDATE or DELETE touched.
    var affectedRows: Int { metadata.rows ?? 0 }

    /// The first column of the first row.
    func scalar<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T? {
        guard let row = rows.first else { return nil }
        return try row.decode(T.self)
    }
}

/// Seconds since 1970, as every table stores times.
func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

extension EventLoopFuture where Value: Sendable {
    /// Waits for the value at most `limit`; past it, runs `onTimeout` (which should make the work
    /// fail, such as closing its connection) and throws `StoreUnavailable`.
    func wait(within limit: TimeAmount, what: String, onTimeout: @escaping @Sendable () -> Void) throws -> Value {
        let promise = eventLoop.makePromise(of: Value.self)
        let settled = Atomic<Bool>(false)
        let seconds = limit.nanoseconds / 1_000_000_000
        let timeout = eventLoop.scheduleTask(in: limit) {
            guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return }
            promise.fail(StoreUnavailable(reason: "the PostgreSQL database did not \(what) within \(seconds) s"))
            onTimeout()
        }
        whenComplete { result in
            timeout.cancel()
            guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return }
            promise.completeWith(result)
        }
        return try promise.futureResult.wait()
    }
}
