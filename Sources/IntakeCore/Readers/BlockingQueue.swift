import Foundation

/// The one bounded queue between the threads of a run: a producer thread (a parser, a prefetching
/// reader) puts elements, the consumer takes them in order, and either side can end it. `put` blocks
/// while the queue is full and `take` while it is empty: both sides are dedicated threads, never the
/// cooperative pool.
///
/// It is `@unchecked Sendable` because every stored property is read and written only while
/// `condition` is locked.
package final class BlockingQueue<Element: Sendable, Failure: Error & Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Taken elements are set to nil at once, so the queue never keeps a reference to what the
    /// consumer has (a batch of records, a chunk's writes) after handing it over.
    private var elements: [Element?] = []
    private var head = 0
    private var finished = false
    private var failure: Failure?
    private var cancelled = false
    /// What the consumer has finished with, until the producer frees it (`giveBack`).
    private var givenBack: [Element] = []
    package let capacity: Int

    package init(capacity: Int) { self.capacity = capacity }

    /// Whether the consumer has gone.
    package var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    /// Blocks while the queue is full; returns false when the consumer has gone.
    package func put(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while elements.count - head >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        elements.append(element)
        condition.broadcast()
        return true
    }

    /// No more elements: the consumer gets the rest, then the end.
    package func finish() { end(nil) }

    /// No more elements: the consumer gets the rest, then `failure`.
    package func fail(_ failure: Failure) { end(failure) }

    private func end(_ failure: Failure?) {
        condition.lock()
        self.failure = failure
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// The consumer is gone: a blocked or later `put` returns false.
    package func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// Hands an element the consumer has finished with back to the producer, whose thread allocated
    /// it, to be freed there by `freeGivenBack`.
    ///
    /// glibc's malloc gives each thread an arena of its own, and a free from another thread takes
    /// that arena's lock while its owner allocates from it. Records freed by the run loop and chunk
    /// writes freed by the store writer made the two sides of a queue fight over that lock: `perf`
    /// of a people + projects run had 6% of all samples in futex calls from malloc and free, and
    /// handing the batches back cut the runs' system time by a quarter (see docs/DECISIONS.md).
    ///
    /// The element is taken, not copied: given back from a local with `consume`, the queue holds
    /// the last reference, so the consumer cannot end up freeing it after all.
    package func giveBack(_ element: consuming Element) {
        condition.lock()
        givenBack.append(element)
        condition.unlock()
    }

    /// Frees what the consumer has given back; called on the producer's thread.
    package func freeGivenBack() {
        condition.lock()
        var taken: [Element] = []
        swap(&taken, &givenBack)
        condition.unlock()
        _ = consume taken
    }

    /// The next element, blocking until there is one; nil at the end, or the failure it ended with.
    package func take() throws(Failure) -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head >= elements.count && !finished { condition.wait() }
        if head < elements.count {
            let element = elements[head]!
            elements[head] = nil
            head += 1
            // Dropping the taken slots costs at most `capacity` moves, once per `capacity` takes.
            if head == elements.count {
                elements.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= max(capacity, 64) {
                elements.removeFirst(head)
                head = 0
            }
            condition.broadcast()
            return element
        }
        if let failure { throw failure }
        return nil
    }
}

/// Records from a parser thread to the reader that pulls them, in batches.
///
/// A parser finds a record every few microseconds; handing each over on its own woke the other
/// thread for every record (an XML dry run of 100,000 records made 85,000 futex calls and spent
/// more than a second in the kernel). Records are gathered on the producer's side and handed
/// over `recordsPerBatch` at a time.
///
/// `@unchecked Sendable`: `gathered` is used only by the producer thread (`put`, `finish`,
/// `fail`), `current` and `position` only by the consumer (`take`); the two meet in `queue`.
final class RecordPipe: @unchecked Sendable {
    private let queue = BlockingQueue<[SourceRecord], ReaderError>(capacity: 4)
    private var gathered: [SourceRecord] = []
    private var current: [SourceRecord] = []
    private var position = 0
    static let recordsPerBatch = 64

    /// Whether the consumer has gone.
    var isCancelled: Bool { queue.isCancelled }

    /// Adds a record; returns false when the consumer has gone (noticed when a batch is handed over).
    func put(_ record: SourceRecord) -> Bool {
        gathered.append(record)
        return gathered.count < Self.recordsPerBatch || handOver()
    }

    private func handOver() -> Bool {
        queue.freeGivenBack()
        guard !gathered.isEmpty else { return !queue.isCancelled }
        let batch = gathered
        gathered = []
        gathered.reserveCapacity(Self.recordsPerBatch)
        return queue.put(batch)
    }

    /// No more records: the consumer gets the rest, then the end.
    func finish() {
        _ = handOver()
        queue.finish()
    }

    /// No more records: the consumer gets the rest, then `failure`.
    func fail(_ failure: ReaderError) {
        _ = handOver()
        queue.fail(failure)
    }

    /// The consumer is gone.
    func cancel() { queue.cancel() }

    /// The next record, blocking until there is one; nil at the end, or the failure it ended with.
    func take() throws(ReaderError) -> SourceRecord? {
        while position == current.count {
            if !current.isEmpty {
                var spent: [SourceRecord] = []
                swap(&spent, &current)
                queue.giveBack(consume spent)
            }
            guard let batch = try queue.take() else { return nil }
            (current, position) = (batch, 0)
        }
        defer { position += 1 }
        return current[position]
    }
}
