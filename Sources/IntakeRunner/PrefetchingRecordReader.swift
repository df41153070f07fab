import Foundation
import IntakeCore

/// Reads records on a thread of its own, a few hundred ahead of the run loop.
///
/// Parsing a record costs about as much as transforming it, and the machines Intake runs on have
/// more than one core, so the run loop should not wait for the parser. Records travel in small
/// batches through a bounded queue, so memory stays flat however long the file is, and a reader
/// error is handed over in order, after the records before it. Releasing the reader stops the thread.
///
/// For a feed, the thread also works out each record's digest (`FeedRun.digest`): it is a tenth of
/// an unchanged night's time on the run loop, and the reading thread has time to spare.
final class PrefetchingRecordReader: RecordReader {
    private let shared: Shared
    private var current: [SourceRecord] = []
    private var currentDigests: [String] = []
    private var position = 0
    /// The digest of the record `next()` returned last, when the reader was made `digesting`.
    private(set) var digest: String?
    private var ended = false
    private var pendingError: ReaderError?
    private(set) var bytesRead: Int

    static let recordsPerBatch = 128
    static let batchesAhead = 4

    init(_ base: any RecordReader, digesting: Bool = false) {
        bytesRead = base.bytesRead
        shared = Shared(digesting: digesting)
        let box = UncheckedBox(base)
        let thread = Thread { [shared] in shared.produce(from: box.value) }
        thread.name = "intake-reader"
        thread.start()
    }

    deinit { shared.stop() }

    func next() throws(ReaderError) -> SourceRecord? {
        while position == current.count {
            // A reader error comes after the records read before it.
            if let error = pendingError { pendingError = nil; throw error }
            if ended { return nil }
            if !current.isEmpty {
                var spent: [SourceRecord] = []
                swap(&spent, &current)
                shared.giveBack(consume spent)
            }
            let batch = shared.take()
            current = batch.records
            currentDigests = batch.digests
            position = 0
            bytesRead = batch.bytesRead
            pendingError = batch.error
            ended = batch.isLast
        }
        defer { position += 1 }
        digest = position < currentDigests.count ? currentDigests[position] : nil
        return current[position]
    }

    /// The records read ahead of the one `next()` returned last, as far as the batch in hand goes
    /// (up to `recordsPerBatch`): a feed run reads their keys' memory in one go on a store across a
    /// network.
    var recordsAhead: ArraySlice<SourceRecord> { current[position...] }

    struct Batch: Sendable {
        var records: [SourceRecord]
        var digests: [String] = []
        var bytesRead: Int
        var error: ReaderError?
        var isLast: Bool
    }

    /// The queue between the reading thread and the run loop.
    private struct Shared: Sendable {
        let queue = BlockingQueue<Batch, Never>(capacity: PrefetchingRecordReader.batchesAhead)
        let digesting: Bool

        func produce(from base: any RecordReader) {
            var reader = base
            var digestBuffer: [UInt8] = []
            while true {
                queue.freeGivenBack()
                var batch = Batch(records: [], bytesRead: 0, error: nil, isLast: false)
                batch.records.reserveCapacity(PrefetchingRecordReader.recordsPerBatch)
                do {
                    while batch.records.count < PrefetchingRecordReader.recordsPerBatch {
                        guard let record = try reader.next() else { batch.isLast = true; break }
                        if digesting { batch.digests.append(FeedRun.digest(of: record.value, buffer: &digestBuffer)) }
                        batch.records.append(record)
                    }
                } catch {
                    batch.error = error
                    batch.isLast = true
                }
                batch.bytesRead = reader.bytesRead
                guard queue.put(batch), !batch.isLast else { return }
            }
        }

        /// Records the run loop is done with go back to be freed on the reading thread, which
        /// allocated them (see `BlockingQueue.giveBack`).
        func giveBack(_ records: consuming [SourceRecord]) {
            queue.giveBack(Batch(records: consume records, bytesRead: 0, error: nil, isLast: false))
        }

        /// The last batch says it is the last, so the queue never runs dry before the consumer stops.
        func take() -> Batch { queue.take()! }

        func stop() { queue.cancel() }
    }
}
