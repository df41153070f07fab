import Foundation
import GRDB
import Synchronization

/// Copies the write-ahead log into the database file from a connection of its own, off the path of
/// every commit.
///
/// SQLite's own checkpoint runs inside whichever commit takes the log past its threshold, and that
/// commit waits for the copy and its fsync (tens to hundreds of milliseconds on a 32 MiB log): a
/// push API call whose commit, or the import chunk it waits behind, drew the checkpoint paid for it
/// (docs/DECISIONS.md, "Checkpoints off the commit path"). Here a commit only looks at the log's
/// size; past `thresholdBytes` a passive checkpoint — one that never waits for readers or writers —
/// runs on a thread of its own while the writer goes on. SQLite's automatic checkpoint stays as a
/// safety net at a larger size.
package final class WALCheckpointer: Sendable {
    private let databasePath: String
    private let logPath: String
    private let thresholdBytes: Int64
    private let running = Mutex(false)
    private let connection = Mutex<DatabaseQueue?>(nil)
    private let queue = DispatchQueue(label: "intake-wal-checkpoint", qos: .utility)

    /// 8192 pages of 4 KiB: the threshold SQLite's automatic checkpoint had before.
    package static let defaultThresholdBytes: Int64 = 32 << 20
    /// SQLite's automatic checkpoint, in pages: only when this one falls behind.
    static let safetyNetPages = 65_536

    package init(databasePath: String, thresholdBytes: Int64 = WALCheckpointer.defaultThresholdBytes) {
        self.databasePath = databasePath
        self.logPath = databasePath + "-wal"
        self.thresholdBytes = thresholdBytes
    }

    /// Called after each commit: starts a checkpoint when the log is past the threshold and none
    /// is running. Costs one `stat` otherwise.
    func committed() {
        var info = stat()
        guard stat(logPath, &info) == 0, Int64(info.st_size) >= thresholdBytes else { return }
        guard
            running.withLock({ busy in
                if busy { return false }
                busy = true
                return true
            })
        else { return }
        queue.async { [self] in
            defer { running.withLock { $0 = false } }
            checkpoint()
        }
    }

    /// A passive checkpoint now, on the calling thread; false when it could not run (it is retried
    /// after a later commit).
    @discardableResult
    func checkpoint() -> Bool {
        do {
            let database = try connection.withLock { connection in
                if let connection { return connection }
                var configuration = Configuration()
                configuration.busyMode = .timeout(1)
                let opened = try DatabaseQueue(path: databasePath, configuration: configuration)
                connection = opened
                return opened
            }
            try database.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
            return true
        } catch {
            return false
        }
    }
}
