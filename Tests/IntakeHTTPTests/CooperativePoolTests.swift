import Foundation
import IntakeApp
import IntakeCore
import IntakeStore
import Synchronization
import Testing

/// Blob storage whose reads block their thread for `delay` first, as a read from a busy PostgreSQL
/// does (postgres-nio's blocking calls wait on a future), and note the thread they blocked.
final class SlowBlobStorage: BlobStorage {
    let base: any BlobStorage
    let delay: TimeInterval
    /// The names of the threads reads blocked.
    let blockedThreads = Mutex<[String]>([])

    init(base: any BlobStorage, delay: TimeInterval) {
        self.base = base
        self.delay = delay
    }

    func makeUpload() throws -> any BlobUpload { try base.makeUpload() }
    func contains(_ digest: Digest) async throws -> Bool { try await base.contains(digest) }
    func open(_ digest: Digest) throws -> any ByteSource {
        let thread = ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
        blockedThreads.withLock { $0.append(thread) }
        usleep(useconds_t(delay * 1_000_000))
        return try base.open(digest)
    }
    func localFile(_ digest: Digest) throws -> LocalBlobFile { try base.localFile(digest) }
    func delete(_ digest: Digest) async throws { try await base.delete(digest) }
    func lastWritten(_ digest: Digest) async throws -> Date? { try await base.lastWritten(digest) }
    func storedBlobs(after: Digest?, limit: Int) async throws -> [StoredBlob] { try await base.storedBlobs(after: after, limit: limit) }
}

/// Request handlers never block the cooperative pool: its threads (one per core) serve every
/// request, so one handler waiting on a slow read would hold up `/health` and everyone else.
@Suite struct CooperativePoolTests {
    @Test func slowStoredFilesDoNotHoldUpOtherRequests() async throws {
        // Eight control files, stored by a first server; the second starts with none of them parsed.
        let directory = try TestServer.makeDirectory()
        let first = try await TestServer.start(directory: directory)
        for index in 0..<8 {
            let control = try Fixtures.write(
                #"{"dataImportControlFileVersion": 0, "model": "haplo:person", "files": {"f\#(index)": {"read": "json"}}, "instructions": []}"#)
            #expect(try await BatchClient(first).uploadControl(control, comment: "control \(index)").status == 200)
        }
        await first.stop()
        let slow = Mutex<SlowBlobStorage?>(nil)
        try await TestServer.start(
            directory: directory,
            wrapBlobs: { base in
                let storage = SlowBlobStorage(base: base, delay: 0.4)
                slow.withLock { $0 = storage }
                return storage
            }
        ).scoped { server in
            try await AdminAccounts(store: server.store).create(name: "ops", password: AdminBrowser.password)
            let browser = AdminBrowser(server)
            _ = try await browser.post("/admin/login", ["username": "ops", "password": AdminBrowser.password], csrf: false)

            // Eight lists at once, each reading eight control files at 0.4 s a read, while /health is
            // asked ten times in the first 1.3 s. Read on the cooperative pool, the threads of a
            // two-core machine would be blocked for the 3.2 s the first lists take.
            let healthTimes = try await withThrowingTaskGroup(of: [TimeInterval].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let page = try await browser.get("/admin/control-files")
                        #expect(page.status == 200 && page.body.contains("haplo:person"))
                        return []
                    }
                }
                // Each probe on its own, at its own moment: one blocked answer must not delay the next
                // probe's start.
                for probe in 0..<10 {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(300 + 100 * probe))
                        let start = Date()
                        _ = try await Curl.run(["\(server.base)/health"])
                        return [Date().timeIntervalSince(start)]
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let median = healthTimes.sorted()[healthTimes.count / 2]
            #expect(median < 0.5, "GET /health took \(healthTimes.map { String(format: "%.2f", $0) }) s while control files were read")
            // Linux's executor starts more threads when its own block, so the delay above may not show;
            // where the reads blocked does: on the thread pool for blocking work (NIO's `SGLTN-TP-#N`), never
            // on a thread of the executor that runs request handlers.
            let threads = try #require(slow.withLock { $0 }).blockedThreads.withLock { $0 }
            #expect(!threads.isEmpty)
            #expect(threads.allSatisfy { $0.contains("TP-#") }, "control files were read on \(Set(threads))")
            // Read once, kept: a control file's digest names its bytes for good.
            let start = Date()
            #expect(try await browser.get("/admin/control-files").status == 200)
            #expect(Date().timeIntervalSince(start) < 1, "the parsed control files are kept")
        }
    }
}
