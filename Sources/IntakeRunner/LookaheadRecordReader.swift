import IntakeCore

/// A reader whose next records can be looked at before they are returned: a feed run reads the
/// keys of a window of records to come, so that a store paying a round trip per question answers
/// them in one (`FeedTransaction.prefetchFeedKeys`).
///
/// Records come back from `next` in file order, each once; a reader error met while looking ahead
/// is kept and thrown by the `next` that reaches it, after the records before it, as without the
/// look-ahead. `bytesRead` runs ahead by the records looked at (it is only shown as progress; a
/// resumed run skips records by count).
final class LookaheadRecordReader: RecordReader {
    private var base: any RecordReader
    private var ahead: [SourceRecord] = []
    private var position = 0
    private var error: ReaderError?
    private var ended = false

    init(_ base: any RecordReader) { self.base = base }

    var bytesRead: Int { base.bytesRead }

    func next() throws(ReaderError) -> SourceRecord? {
        if position < ahead.count {
            defer {
                position += 1
                if position == ahead.count { (ahead, position) = ([], 0) }
            }
            return ahead[position]
        }
        if let error {
            self.error = nil
            throw error
        }
        if ended { return nil }
        return try base.next()
    }

    func skipNext() throws(ReaderError) -> Bool {
        try next() != nil
    }

    func checkAll() throws(ReaderError) -> Int {
        var count = 0
        while try next() != nil { count += 1 }
        return count
    }

    /// Up to `count` of the records `next` returns next, read now if need be.
    func peek(_ count: Int) -> ArraySlice<SourceRecord> {
        while ahead.count - position < count, error == nil, !ended {
            do {
                guard let record = try base.next() else {
                    ended = true
                    break
                }
                ahead.append(record)
            } catch {
                self.error = error
            }
        }
        return ahead[position...].prefix(count)
    }
}
