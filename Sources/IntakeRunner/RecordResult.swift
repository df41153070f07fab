import IntakeCore
import IntakeStore

/// One line of `GET results` (docs/api.md "Extensions"), written as bytes: one is made per record.
enum RecordResult {
    /// - Parameters:
    ///   - line: the record's line in its file; nil for a feed's leaver, which has none.
    ///   - key: `FILE/KEY` for every line of a feed batch.
    ///   - skipped: a feed record that was not transformed because nothing could have changed.
    ///   - leaver: a key that left a snapshot feed.
    static func line(
        record: String, file: String, line: Int?, status: RecordStatus, changes: [RecordChange], errors: [String],
        key: String? = nil, skipped: Bool = false, leaver: Bool = false
    ) -> String {
        var out = JSONBytes()
        out.raw("{\"record\":")
        out.string(record)
        out.field("file", file)
        out.raw(",\"line\":" + (line.map(String.init) ?? "null"))
        if let key { out.field("key", key) }
        out.field("status", status.rawValue)
        if skipped { out.raw(",\"skipped\":true") }
        if leaver { out.raw(",\"leaver\":true") }
        out.raw(",\"changes\":[")
        var first = true
        for change in changes where change.outcome != .unchanged {
            out.raw(first ? "{\"kind\":" : ",{\"kind\":")
            first = false
            out.string(change.isDocument ? "dictionary:commit" : change.outcome == .deleted ? "object:delete" : "object:save")
            out.field("destination", change.destination)
            if !change.isDocument {
                if let ref = change.ref { out.field("ref", ref.text) }
                out.raw(change.isNew ? ",\"new\":true" : ",\"new\":false")
                out.raw(",\"diff\":[")
                for (i, attribute) in change.diff.enumerated() {
                    out.raw(i == 0 ? "{\"attribute\":" : ",{\"attribute\":")
                    out.string(attribute.attribute)
                    out.raw(",\"before\":")
                    values(attribute.before, to: &out)
                    out.raw(",\"after\":")
                    values(attribute.after, to: &out)
                    out.raw("}")
                }
                out.raw("]")
            }
            out.raw("}")
        }
        out.raw("],\"errors\":[")
        for (i, error) in errors.enumerated() {
            if i > 0 { out.raw(",") }
            out.string(error)
        }
        out.raw("]}")
        return out.text
    }

    /// Values in the read API's encoding (docs/schema.md "Value encoding").
    private static func values(_ values: [ObjectValue], to out: inout JSONBytes) {
        out.raw("[")
        for (i, value) in values.enumerated() {
            if i > 0 { out.raw(",") }
            out.value(value, attribute: false, shortEscapes: true)
        }
        out.raw("]")
    }
}
