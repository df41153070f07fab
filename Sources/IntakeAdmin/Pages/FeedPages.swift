import Foundation
import IntakeCore
import IntakeStore

/// The feeds page (docs/feeds.md "Where people see feeds"): every feed with its last night, and the
/// nights a guard held.
struct FeedsPage: Sendable {
    /// A feed in one line: its keys and what its last night did.
    struct Feed: Sendable {
        var name: String
        var active: Int
        var left: Int
        var last: BatchRow?
        var lastLine: String?

        init(_ feed: FeedRecord) {
            (name, active, left) = (feed.name, feed.activeKeys, feed.leftKeys)
            if let last = feed.lastBatch {
                let counts = FeedChart.counts(last.progress)
                self.last = BatchRow(last)
                lastLine =
                    "\(counts[0]) created, \(counts[1]) updated, \(counts[2]) unchanged (\(last.progress.recordsSkipped) skipped), \(counts[3]) left, \(counts[4]) failed"
            }
        }
    }

    // Stored, not computed: templates see stored properties only.
    var feeds: [Feed]
    var hasFeeds: Bool
    var held: [BatchRow]
    var hasHeld: Bool

    init(feeds: [FeedRecord], held: [Batch]) {
        self.feeds = feeds.map { Feed($0) }
        self.held = held.map { BatchRow($0) }
        (hasFeeds, hasHeld) = (!feeds.isEmpty, !held.isEmpty)
    }
}

/// One feed's page: its keys, its last nights as a chart and a table, and a key's history when one
/// was asked for.
struct FeedPage: Sendable {
    /// A night of the feed: the batch and what it did.
    struct Night: Sendable {
        var id: String
        var comment: String
        var state: String
        var dryRun: Bool
        var isHeld: Bool
        var created: Int
        var updated: Int
        var unchanged: Int
        var skipped: Int
        var leftCount: Int
        var failedCount: Int

        init(_ batch: Batch) {
            let counts = FeedChart.counts(batch.progress)
            (id, comment, state, dryRun, isHeld) = (batch.id.rawValue, batch.comment, batch.state.rawValue, batch.dryRun, batch.state == .held)
            (created, updated, unchanged, skipped, leftCount, failedCount) = (
                counts[0], counts[1], counts[2], batch.progress.recordsSkipped, counts[3], counts[4]
            )
        }
    }

    /// The key's memory at one time: now, or before a batch that changed it.
    struct KeyState: Sendable {
        struct Object: Sendable {
            var destination: String
            var ref: String
            var version: Int
        }
        var state: String
        var lastChanged: [String: String]?
        var firstSeen: [String: String]?
        var batch: String
        var objects: [Object]

        init(_ memory: FeedKeyMemory) {
            state = memory.active ? "active" : "left"
            lastChanged = Format.time(memory.lastChanged)
            firstSeen = Format.time(memory.firstSeen)
            batch = memory.lastBatch.rawValue
            objects = memory.objects.map { Object(destination: $0.destination, ref: $0.ref.text, version: $0.version) }
        }
    }

    var name: String
    var active: Int
    var left: Int
    /// Newest first.
    var runs: [Night]
    var hasRuns: Bool
    var held: [Night]
    /// The chart's SVG, made by `FeedChart` from numbers and escaped names only.
    var chart: String
    /// The file the key search looks in: the one asked for, or the last night's first file.
    var file: String
    var key: String?
    var searched: Bool
    var history: [KeyState]
    var hasHistory: Bool

    /// - Parameter batches: the feed's last nights, newest first.
    init(feed: FeedRecord, batches: [Batch], file: String?, key: String?, history: [FeedKeyMemory]?) {
        (name, active, left) = (feed.name, feed.activeKeys, feed.leftKeys)
        runs = batches.map(Night.init)
        (hasRuns, held) = (!runs.isEmpty, runs.filter(\.isHeld))
        chart = FeedChart.svg(
            batches.reversed().map { batch in
                FeedChart.Night(
                    batch: batch.id.rawValue,
                    label: "\(Timestamp.string(batch.created)) \(batch.state.rawValue)\(batch.dryRun ? " (dry run)" : "")",
                    counts: FeedChart.counts(batch.progress))
            })
        self.file = file ?? batches.first?.files.first?.name ?? ""
        (self.key, searched) = (key, key != nil)
        self.history = (history ?? []).map(KeyState.init)
        hasHistory = !self.history.isEmpty
    }
}
