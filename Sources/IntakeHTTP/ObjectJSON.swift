import Foundation
import IntakeCore
import IntakeStore

/// The object JSON of docs/schema.md ("Object JSON").
package enum ObjectJSON {
    package static func attributes(_ values: [ObjectValue]) -> JSONValue {
        var grouped = JSONObject()
        for value in values {
            var list = grouped[value.attribute]?.arrayValue ?? []
            list.append(.object(AttributeValueCoding.encode(value)))
            grouped[value.attribute] = .array(list)
        }
        return .object(grouped)
    }

    /// A deleted object (docs/feeds.md) says so with `"deleted": true`; others have no such key.
    package static func object(_ o: ObjectRecord) -> JSONValue {
        var fields = JSONObject([
            ("ref", .string(o.ref.text)),
            ("type", o.type.map(JSONValue.string) ?? .null),
            ("title", .string(o.title)),
            ("version", .number(Double(o.version))),
            ("created", .string(Timestamp.string(o.created))),
            ("updated", .string(Timestamp.string(o.updated))),
            ("attributes", attributes(o.values))
        ])
        if o.deleted { fields["deleted"] = .bool(true) }
        return .object(fields)
    }

    /// As objects: a version that deleted the object has `"deleted": true`.
    package static func version(_ v: ObjectVersionRecord) -> JSONValue {
        var fields = JSONObject([
            ("version", .number(Double(v.version))),
            ("batch", v.batch.map(JSONValue.string) ?? .null),
            ("saved", .string(Timestamp.string(v.saved))),
            ("attributes", attributes(v.values))
        ])
        if v.deleted { fields["deleted"] = .bool(true) }
        return .object(fields)
    }
}
