import IntakeCore
import IntakeStore

/// One line of `GET results` (docs/api.md "Extensions"), written as bytes: one is made per record.
enum RecordResult {
    static func line(record: String, file: String, line: Int, status: String, changes: [RecordChange], errors: [String]) -> String {
        var out = JSONBytes()
        out.raw("{\"record\":")
        out.string(record)
        out.field("file", file)
        out.raw(",\"line\":" + String(line))
        out.field("status", status)
        out.raw(",\"changes\":[")
        var first = true
        for change in changes where change.outcome != .unchanged {
            out.raw(first ? "{\"kind\":" : ",{\"kind\":")
            first = false
            out.string(change.ref == nil ? "dictionary:commit" : "object:save")
            out.field("destination", change.destination)
            if let ref = change.ref {
                out.field("ref", ref.text)
                out.raw(change.isNew ? ",\"new\":true" : ",\"new\":false")
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
}
