import Foundation

/// One `intake serve` per data directory: the embedded SQLite backend is built for one server. A second
/// server on the same directory would run its own worker beside the first; the leases keep records from
/// being applied twice, but two servers' start-up work (blob clean-up, list objects) and their
/// configuration would clash, and an operator who starts two almost always meant something else.
/// `intake run` and `intake apikey` do not take this lock: they share the directory with a server.
///
/// The lock is an exclusive `flock` on `serve.lock`, which the kernel releases when the process ends,
/// however it ends: a crash never leaves a stale lock behind.
struct ServerLock {
    private let descriptor: Int32

    init(dataDirectory: String) throws {
        let path = (dataDirectory as NSString).appendingPathComponent("serve.lock")
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ValidationFailure("Cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = pread(descriptor, &buffer, buffer.count, 0)
            let holder = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "unknown"
            close(descriptor)
            throw ValidationFailure(
                """
                Another intake server (pid \(holder)) is already serving the data directory \(dataDirectory). \
                Stop it first, or give this one its own directory with --data. \
                (One server per data directory; intake run and intake apikey can share it.)
                """)
        }
        // Releases from before this lock existed do not take it: look for a server process that has
        // the directory's database open, whatever its release.
        if let other = Self.otherServer(using: (dataDirectory as NSString).appendingPathComponent("intake.sqlite")) {
            close(descriptor)
            throw ValidationFailure(
                """
                Another intake server (pid \(other)) has the data directory \(dataDirectory) open. \
                Stop it first, or give this one its own directory with --data. \
                (One server per data directory; intake run and intake apikey can share it.)
                """)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
    }

    /// A process other than this one whose command line says `serve` and that has `database` open:
    /// a server of any release on the same directory. Processes of other users cannot be seen, and
    /// need not be: they could not open the directory's files (mode 0700).
    static func otherServer(using database: String) -> Int32? {
        let target = (database as NSString).resolvingSymlinksInPath
        guard FileManager().fileExists(atPath: target),
            let processes = try? FileManager().contentsOfDirectory(atPath: "/proc")
        else { return nil }
        for entry in processes {
            guard let pid = Int32(entry), pid != getpid() else { continue }
            let commandLine = FileManager().contents(atPath: "/proc/\(entry)/cmdline") ?? Data()
            guard commandLine.split(separator: 0).contains(where: { $0.elementsEqual("serve".utf8) }) else { continue }
            let descriptors = (try? FileManager().contentsOfDirectory(atPath: "/proc/\(entry)/fd")) ?? []
            for fd in descriptors {
                if let path = try? FileManager().destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(fd)"), path == target { return pid }
            }
        }
        return nil
    }

    /// Kept for the life of the process; the kernel drops the lock when the process ends.
    func hold() { _ = descriptor }
}
