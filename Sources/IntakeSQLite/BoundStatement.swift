import Foundation
import GRDB
import GRDBSQLite

/// Binds and steps one of GRDB's prepared statements through the SQLite C API.
///
/// The import hot path runs a handful of statements per record. GRDB's `execute(arguments:)` boxes
/// every argument in a `DatabaseValue` array and validates it, which cost more than SQLite's own
/// work; binding straight from the strings' UTF-8 storage does not allocate. Statements come from
/// `Database.cachedStatement`, so they are prepared once per connection, and they are always reset
/// after use, so GRDB can keep using them.
struct BoundStatement {
    private let statement: Statement
    private let connection: SQLiteConnection?
    private var handle: OpaquePointer { statement.sqliteStatement }

    init(_ db: Database, _ sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        connection = db.sqliteConnection
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    func bind(_ index: Int32, _ value: String?) {
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        value.withUTF8 { bindText(index, $0) }
    }

    func bind(_ index: Int32, utf8 bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { bindText(index, $0) }
    }

    private func bindText(_ index: Int32, _ buffer: UnsafeBufferPointer<UInt8>) {
        // An empty buffer may have no address, and a null pointer would bind NULL, not "".
        let address = UnsafeRawPointer(buffer.baseAddress ?? Self.empty.utf8Start)
        sqlite3_bind_text(handle, index, address.assumingMemoryBound(to: CChar.self), Int32(buffer.count), Self.transient)
    }

    /// Runs a statement that returns no rows.
    func run() throws {
        defer { reset() }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw error(code) }
    }

    /// Runs a statement that returns no rows; returns how many rows it changed.
    func runCountingChanges() throws -> Int {
        try run()
        return connection.map { Int(sqlite3_changes($0)) } ?? 0
    }

    /// Steps to the first row and hands it to `read`; nil when there is none.
    func first<T>(_ read: (Row) throws -> T) throws -> T? {
        defer { reset() }
        let code = sqlite3_step(handle)
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw error(code) }
        return try read(Row(handle))
    }

    /// Steps to the next row of a statement read row by row; nil once there are no more. The
    /// caller resets the statement with `finishRows()` when it stops, whether or not it read them all.
    func nextRow() throws -> Row? {
        let code = sqlite3_step(handle)
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw error(code) }
        return Row(handle)
    }

    func finishRows() { reset() }

    struct Row {
        fileprivate let handle: OpaquePointer
        fileprivate init(_ handle: OpaquePointer) { self.handle = handle }

        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

        /// A text column's UTF-8 bytes.
        func bytes(_ column: Int32) -> [UInt8] {
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let pointer = sqlite3_column_text(handle, column) else { return [] }
            return Array(UnsafeBufferPointer(start: pointer, count: count))
        }

        /// A text column as a String (empty for NULL).
        func text(_ column: Int32) -> String {
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let pointer = sqlite3_column_text(handle, column) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
        }

        /// A text column as a String: `previous` itself when the column holds the same text, so
        /// that a text repeated from row to row is not copied again.
        func text(_ column: Int32, reusing previous: String) -> String {
            var previous = previous
            let same = previous.withUTF8 { bytes in
                let count = Int(sqlite3_column_bytes(handle, column))
                guard count == bytes.count else { return false }
                guard count > 0, let pointer = sqlite3_column_text(handle, column) else { return true }
                return memcmp(bytes.baseAddress!, pointer, count) == 0
            }
            return same ? previous : text(column)
        }

        /// How a text column orders against another row's, as SQLite's BINARY collation orders
        /// them (bytes, then length): negative, zero or positive.
        func compareText(_ column: Int32, to other: Row, _ otherColumn: Int32) -> Int {
            let count = Int(sqlite3_column_bytes(handle, column))
            let otherCount = Int(sqlite3_column_bytes(other.handle, otherColumn))
            let common = min(count, otherCount)
            if common > 0, let mine = sqlite3_column_text(handle, column), let theirs = sqlite3_column_text(other.handle, otherColumn) {
                let order = memcmp(mine, theirs, common)
                if order != 0 { return Int(order) }
            }
            return count - otherCount
        }

        /// How a text column orders against a string, as SQLite's BINARY collation orders them.
        func compareText(_ column: Int32, to other: String) -> Int {
            var other = other
            return other.withUTF8 { theirs in
                let count = Int(sqlite3_column_bytes(handle, column))
                let common = min(count, theirs.count)
                if common > 0, let mine = sqlite3_column_text(handle, column) {
                    let order = memcmp(mine, theirs.baseAddress!, common)
                    if order != 0 { return Int(order) }
                }
                return count - theirs.count
            }
        }

        /// Whether a text column holds exactly these UTF-8 bytes, without making a String of it.
        func text(_ column: Int32, equals bytes: [UInt8]) -> Bool {
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count == bytes.count else { return false }
            guard count > 0, let pointer = sqlite3_column_text(handle, column) else { return count == 0 }
            return bytes.withUnsafeBufferPointer { memcmp($0.baseAddress!, pointer, count) == 0 }
        }
    }

    private func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private func error(_ code: Int32) -> DatabaseError {
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }

    private static let empty: StaticString = ""

    /// SQLITE_TRANSIENT: SQLite copies the bytes before the bind call returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}
