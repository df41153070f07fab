import Foundation
import IntakeStore

/// What `intake purge` removed, or would remove.
package struct PurgeReport: Sendable, Equatable {
    package var batches = 0
    package var logLines = 0
    package var resultLines = 0
    package var files = 0
    package var bytes: Int64 = 0
    /// Blobs nothing refers to (files of refused admin forms, uploads of batches never created).
    package var unreferencedFiles = 0
    package var unreferencedBytes: Int64 = 0
}

extension ImportService {
    /// Blobs written this recently are never deleted: an upload of the same bytes renews its blob, so a
    /// batch being uploaded while the purge runs keeps its files.
    package static let purgeQuietPeriod: TimeInterval = 3600

    /// Removes the logs, per-record results and uploaded data files of batches that finished before
    /// `cutoff`. Objects and their history stay, and so do the batches' records (state, counts, file
    /// names and digests) and every control file. A data file goes only when no batch that is not
    /// purged uses the same bytes. Then any stored blob that nothing refers to (no control file, no
    /// batch that is not purged) and that was not written in the last hour goes too. With `dryRun`,
    /// counts what would go and changes nothing.
    package func purge(finishedBefore cutoff: Date, dryRun: Bool) async throws -> PurgeReport {
        var report = try await purgeBatches(finishedBefore: cutoff, dryRun: dryRun)
        var after: Digest?
        while true {
            let page = try await environment.blobs.storedBlobs(after: after, limit: 1000)
            guard let last = page.last else { return report }
            after = last.digest
            for blob in page where environment.now().timeIntervalSince(blob.lastWritten) > Self.purgeQuietPeriod {
                guard try await !store.isDigestInUse(blob.digest, ignoring: []) else { continue }
                // Files of the batches purged above are gone already, and in a dry run those batches
                // still use theirs: nothing is counted twice.
                if !dryRun { try await environment.blobs.delete(blob.digest) }
                report.unreferencedFiles += 1
                report.unreferencedBytes += blob.size
            }
        }
    }

    private func purgeBatches(finishedBefore cutoff: Date, dryRun: Bool) async throws -> PurgeReport {
        var report = PurgeReport()
        var seen = Set<Digest>()
        if dryRun {
            let batches = try await store.purgeableBatches(finishedBefore: cutoff, limit: .max)
            let ids = Set(batches.map(\.id))
            for batch in batches {
                report.batches += 1
                report.logLines += batch.progress.logLines
                report.resultLines += batch.progress.resultLines
                for file in batch.files where seen.insert(file.digest).inserted {
                    if try await !store.isDigestInUse(file.digest, ignoring: ids), try await isQuiet(file.digest) {
                        report.files += 1
                        report.bytes += file.size
                    }
                }
            }
            return report
        }
        while true {
            // Pages of batches, each marked purged before its files are considered.
            let batches = try await store.purgeableBatches(finishedBefore: cutoff, limit: 500)
            if batches.isEmpty { return report }
            for batch in batches {
                let removed = try await store.purgeRecords(of: batch.id, now: environment.now())
                report.batches += 1
                report.logLines += removed.logLines
                report.resultLines += removed.resultLines
                for file in batch.files where seen.insert(file.digest).inserted {
                    guard try await !store.isDigestInUse(file.digest, ignoring: []), try await isQuiet(file.digest) else { continue }
                    try await environment.blobs.delete(file.digest)
                    report.files += 1
                    report.bytes += file.size
                }
            }
        }
    }

    private func isQuiet(_ digest: Digest) async throws -> Bool {
        guard let written = try await environment.blobs.lastWritten(digest) else { return false }
        return environment.now().timeIntervalSince(written) > Self.purgeQuietPeriod
    }
}
