import Foundation
@testable import IntakeSQLite
import IntakeStore
import Testing

/// Results are stored one row per chunk; pages start anywhere inside a chunk and cross chunk ends.
@Suite struct ResultPagingTests {
    @Test func pagesStartInsideChunksAndCrossThem() async throws {
        let store = try SQLiteBatchStore.inMemory()
        let id = BatchID(rawValue: "b1")
        let control = Digest(hex: String(repeating: "c", count: 64))!
        try await store.addControlFile(digest: control, size: 1, comment: "c", now: Date())
        try await store.createBatch(id: id, control: control, comment: "b", state: .uploading, now: Date())
        try await store.startDirectRun(id, dryRun: false, by: "test", now: Date())
        var written = 0
        for chunkSize in [3, 1, 4] {
            try store.inImportTransaction(batch: id, now: Date()) { tx in
                try tx.appendResults((written..<written + chunkSize).map { "r\($0)" }, startingAt: written)
            }
            written += chunkSize
        }
        #expect(try await store.resultLines(of: id, from: 0, limit: 2) == ["r0", "r1", "r2"])
        #expect(try await store.resultLines(of: id, from: 2, limit: 2) == ["r2", "r3"])
        #expect(try await store.resultLines(of: id, from: 4, limit: 100) == ["r4", "r5", "r6", "r7"])
        #expect(try await store.resultLines(of: id, from: 8, limit: 100).isEmpty)
        #expect(try await store.results(of: id) == (0..<8).map { "r\($0)" })

        try store.inImportTransaction(batch: id, now: Date()) { tx in
            try tx.appendLog((0..<2500).map { "line \($0)" }, startingAt: 0)
        }
        #expect(try await store.logLines(of: id, skipping: 1000, limit: 2) == ["line 1000", "line 1001"])
        #expect(try await store.log(of: id).count == 2500)
    }
}
