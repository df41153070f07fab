import Foundation
import IntakeCore
import IntakeStore

/// The JSON of webhook deliveries: the body a receiver gets, and `GET deliveries` (docs/feeds.md
/// "Webhooks").
package enum WebhookJSON {
    /// How many of the log's first lines are searched for the error lines a body carries.
    static let logLinesSearched = 500

    /// The body of a delivery: the event, the batch as it ended (its state at the event), its first
    /// five error lines, and links for a person or a script to follow.
    package static func body(_ delivery: WebhookDelivery, batch: Batch, log: [String], base: String) -> String {
        func time(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.string($0)) } ?? .null }
        let id = batch.id.rawValue
        let batchJSON = JSONObject([
            ("identifier", .string(id)),
            ("comment", .string(batch.comment)),
            ("state", .string(delivery.batchState)),
            ("dryRun", .bool(batch.dryRun)),
            ("feed", batch.feed.map(JSONValue.string) ?? .null),
            ("started", time(batch.started)),
            ("finished", time(batch.finished)),
            ("summary", BatchStatusJSON.summary(batch.progress)),
            ("errors", .number(Double(batch.progress.errors))),
            ("errorLines", .array(errorLines(log).prefix(5).map(JSONValue.string))),
            ("held", BatchStatusJSON.held(batch.progress.held))
        ])
        let links = JSONObject([
            ("status", .string("\(base)\(APIPath.status)?batch=\(id)")),
            ("log", .string("\(base)\(APIPath.log)?batch=\(id)")),
            ("results", .string("\(base)\(APIPath.results)?batch=\(id)")),
            ("admin", .string("\(base)/admin/batches/\(id)"))
        ])
        return JSONValue.object(
            JSONObject([
                ("event", .string(delivery.event.rawValue)), ("delivery", .string(delivery.id)),
                ("created", .string(Timestamp.string(delivery.created))), ("batch", .object(batchJSON)), ("links", .object(links))
            ])
        ).compactJSON
    }

    /// The lines of a log that report a problem: everything but the run's own markers (`START:`,
    /// `END:`, `HELD:`, `APPROVED`…), and `EXCEPTION:` lines, which are problems.
    static func errorLines(_ log: [String]) -> [String] {
        log.filter { line in
            if line.hasPrefix("EXCEPTION:") { return true }
            guard let colon = line.firstIndex(of: ":") else { return true }
            let head = line[..<colon]
            return !(head.count >= 3 && head.allSatisfy { $0.isUppercase || $0 == " " })
        }
    }

    /// `GET deliveries?batch=ID`: every delivery of the batch with its attempts.
    package static func deliveries(_ deliveries: [WebhookDelivery]) -> String {
        func time(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.string($0)) } ?? .null }
        let items: [JSONValue] = deliveries.map { d in
            let attempts: [JSONValue] = d.attempts.map { a in
                .object(
                    JSONObject([
                        ("at", time(a.at)), ("status", a.status.map { .number(Double($0)) } ?? .null),
                        ("error", a.error.map(JSONValue.string) ?? .null), ("milliseconds", .number(Double(a.milliseconds)))
                    ]))
            }
            return .object(
                JSONObject([
                    ("delivery", .string(d.id)), ("webhook", .string(d.webhook)), ("url", .string(d.url)),
                    ("event", .string(d.event.rawValue)), ("batchState", .string(d.batchState)), ("created", time(d.created)),
                    ("state", .string(d.state.rawValue)), ("nextAttempt", time(d.nextAttempt)), ("attempts", .array(attempts))
                ]))
        }
        return JSONValue.object(JSONObject([("deliveries", .array(items))])).compactJSON
    }
}
