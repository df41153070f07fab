import Foundation
import IntakeCore
import Testing

@testable import IntakeStore

/// The values every store and caller share, checked without a database.
@Suite struct StoreValueTests {
    @Test func digestsAreSixtyFourLowerCaseHexDigits() {
        #expect(Digest(hex: String(repeating: "a", count: 64)) != nil)
        #expect(Digest(hex: String(repeating: "A", count: 64)) == nil)
        #expect(Digest(hex: String(repeating: "a", count: 63)) == nil)
        #expect(Digest(hex: String(repeating: "g", count: 64)) == nil)
    }

    @Test func batchIdentifiersAreTwentySixCharactersOfBase32() {
        let ids = (0..<200).map { _ in BatchID.random().rawValue }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 26 && $0.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) } })
    }

    @Test func keysAreComparedByHashInConstantTime() {
        let key = APIKeyHashing.newKey()
        #expect(key.hasPrefix("ik_") && key.count == 67)
        #expect(APIKeyHashing.hash(key) != key && APIKeyHashing.hash(key) == APIKeyHashing.hash(key))
        #expect(APIKeyHashing.constantTimeEquals(APIKeyHashing.hash(key), APIKeyHashing.hash(key)))
        #expect(!APIKeyHashing.constantTimeEquals(APIKeyHashing.hash(key), APIKeyHashing.hash(APIKeyHashing.newKey())))
        #expect(!APIKeyHashing.constantTimeEquals("abc", "abcd"))
    }

    @Test func recordStatusesAreTheWordsOfTheResultLines() {
        #expect(RecordStatus.allCases.map(\.rawValue) == ["applied", "failed", "unchanged", "left", "dry-run", "not-applied"])
    }

    /// Progress stored by an earlier version lacks the later counts: they read as zero or absent.
    @Test func progressWrittenBeforeTheNewerCountsStillReads() throws {
        let old = #"{"recordsRead": 5, "recordsApplied": 4, "recordsFailed": 1, "recordsUnchanged": 0, "bytesRead": 10, "logLines": 3, "errors": 1}"#
        let progress = try JSONDecoder().decode(RunProgress.self, from: Data(old.utf8))
        #expect(progress.recordsRead == 5 && progress.recordsApplied == 4 && progress.recordsFailed == 1)
        #expect(progress.recordsSkipped == 0 && progress.recordsLeft == 0 && progress.recordsNotApplied == 0)
        #expect(progress.nothingApplied == nil)
    }

    @Test func anAllOrNothingRunThatFailedKeepsOnlyWhatWasRead() {
        var progress = RunProgress()
        (progress.recordsRead, progress.recordsApplied, progress.recordsFailed, progress.recordsUnchanged) = (10, 7, 2, 1)
        progress.discardApplied(notApplied: 8, ending: "NOTHING APPLIED: 2 records failed; the control file asks for all or nothing")
        #expect(progress.recordsRead == 10 && progress.recordsFailed == 2)
        #expect(progress.recordsApplied == 0 && progress.recordsUnchanged == 0 && progress.recordsNotApplied == 8)
        #expect(progress.nothingApplied?.hasPrefix("NOTHING APPLIED: ") == true)
    }

    /// A blob is kept under the digest of its bytes; a discarded upload leaves nothing.
    @Test func localBlobsAreContentAddressedAndReadInBlocks() async throws {
        let root = FileManager().temporaryDirectory.appendingPathComponent("intake-blobs-\(UUID().uuidString)")
        defer { try? FileManager().removeItem(at: root) }
        let blobs = try LocalBlobStorage(root: root)
        let bytes = Array((0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let upload = try blobs.makeUpload()
        try bytes.withUnsafeBytes { try upload.write($0) }
        let (digest, size) = try await upload.finish()
        #expect(size == Int64(bytes.count))
        #expect(try await blobs.contains(digest))
        let reader = try await OffloadedBlobReader.open(digest, in: blobs, blockSize: 65_536)
        var read: [UInt8] = []
        var blocks = 0
        while let block = try await reader.next() {
            read += block
            blocks += 1
        }
        #expect(read == bytes && blocks == 4)

        let discarded = try blobs.makeUpload()
        try [1, 2, 3].withUnsafeBytes { try discarded.write($0) }
        discarded.discard()
        let temporary = try FileManager().contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path)
        #expect(temporary.isEmpty)
    }
}
