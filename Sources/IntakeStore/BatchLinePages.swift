/// A batch's log or result lines, a page at a time and in order, from a given line: how every
/// reader of a whole log or result set walks it (the API's streams, the admin pages and downloads,
/// the failed records, `intake run`), so that memory holds one page however long the batch.
/// It ends at the first empty page: lines a running batch adds meanwhile are read too.
package struct BatchLinePages: AsyncSequence, Sendable {
    package enum Lines: Sendable { case log, results }

    private let store: any BatchRepository
    private let batch: BatchID
    private let lines: Lines
    private let start: Int
    private let pageSize: Int

    package init(store: any BatchRepository, batch: BatchID, lines: Lines, from start: Int = 0, pageSize: Int = 1000) {
        precondition(pageSize > 0 && start >= 0)
        (self.store, self.batch, self.lines, self.start, self.pageSize) = (store, batch, lines, start, pageSize)
    }

    package func makeAsyncIterator() -> Iterator { Iterator(pages: self, next: start) }

    package struct Iterator: AsyncIteratorProtocol {
        fileprivate let pages: BatchLinePages
        /// The index of the next line to read; nil once the lines ended.
        fileprivate var next: Int?

        package mutating func next() async throws -> [String]? {
            guard let from = next else { return nil }
            let page =
                switch pages.lines {
                case .log: try await pages.store.logLines(of: pages.batch, skipping: from, limit: pages.pageSize)
                case .results: try await pages.store.resultLines(of: pages.batch, from: from, limit: pages.pageSize)
                }
            guard !page.isEmpty else {
                next = nil
                return nil
            }
            next = from + page.count
            return page
        }
    }
}

extension BatchRepository {
    /// The batch's log lines from line `start` (0-based), a page at a time.
    package func logPages(of id: BatchID, from start: Int = 0, pageSize: Int = 1000) -> BatchLinePages {
        BatchLinePages(store: self, batch: id, lines: .log, from: start, pageSize: pageSize)
    }

    /// The batch's result lines from result `start` (0-based), a page at a time.
    package func resultPages(of id: BatchID, from start: Int = 0, pageSize: Int = 1000) -> BatchLinePages {
        BatchLinePages(store: self, batch: id, lines: .results, from: start, pageSize: pageSize)
    }
}
