import Foundation
import IntakeCore
import IntakeStore

/// Feeds as the read API shows them (docs/feeds.md "Where people see feeds").
enum FeedJSON {
    static func feed(_ feed: FeedRecord) -> JSONValue {
        let last = feed.lastBatch
        return .object(
            JSONObject([
                ("name", .string(feed.name)),
                ("activeKeys", .number(Double(feed.activeKeys))),
                ("leftKeys", .number(Double(feed.leftKeys))),
                ("lastBatch", last.map { .string($0.id.rawValue) } ?? .null),
                ("lastState", last.map { .string($0.state.rawValue) } ?? .null),
                ("lastSummary", last.map { BatchStatusJSON.summary($0.progress) } ?? .null)
            ]))
    }

    static func key(_ key: FeedKeyMemory) -> JSONValue {
        .object(
            JSONObject([
                ("file", .string(key.file)),
                ("key", .string(key.key)),
                ("state", .string(key.active ? "active" : "left")),
                ("firstSeen", .string(Timestamp.string(key.firstSeen))),
                ("lastChanged", .string(Timestamp.string(key.lastChanged))),
                ("lastBatch", .string(key.lastBatch.rawValue)),
                (
                    "objects",
                    .array(
                        key.objects.map { object in
                            .object(
                                JSONObject([
                                    ("destination", .string(object.destination)), ("ref", .string(object.ref.text)),
                                    ("version", .number(Double(object.version)))
                                ]))
                        })
                )
            ]))
    }
}
