import IntakeCore

/// How object values are kept in the `data` column: a JSON array of SCHEMA.md value encodings,
/// each with its `attribute`. Values are grouped by attribute code (a stable sort, so the order within
/// an attribute is kept): replacing a value moves it to the end of the object, and that must not make
/// an otherwise equal object look changed. Equal values give equal text, so the "unchanged" test is a
/// string comparison.
enum ObjectValueStorage {
    static func encode(_ values: [ObjectValue]) -> String {
        let grouped = values.enumerated().sorted { a, b in
            a.element.attribute == b.element.attribute ? a.offset < b.offset : a.element.attribute < b.element.attribute
        }.map(\.element)
        var out = "["
        for (i, v) in grouped.enumerated() {
            if i > 0 { out += "," }
            // Written directly rather than through a JSONObject: this runs for every saved object.
            out += "{\"attribute\":"
            JSONValue.string(v.attribute).write(to: &out)
            for (k, x) in AttributeValueCoding.encode(v).pairs {
                out += ","
                JSONValue.string(k).write(to: &out)
                out += ":"
                x.write(to: &out)
            }
            out += "}"
        }
        return out + "]"
    }

    static func decode(_ text: String) -> [ObjectValue] {
        guard case .array(let items)? = try? JSONParser.parse(text) else { return [] }
        return items.compactMap { item in
            guard case .object(let o) = item, let attribute = o["attribute"]?.stringValue,
                  var value = AttributeValueCoding.decode(o) else { return nil }
            value.attribute = attribute
            return value
        }
    }

    static func title(_ values: [ObjectValue]) -> String {
        values.first { $0.attribute == StandardSchema.titleAttribute }?.value.displayText ?? ""
    }

    static func type(_ values: [ObjectValue]) -> String? {
        for v in values where v.attribute == StandardSchema.typeAttribute {
            if case .objectType(let code) = v.value { return code }
        }
        return nil
    }

    static func firstText(_ values: [ObjectValue], _ attribute: String) -> String? {
        values.first { $0.attribute == attribute }.map { $0.value.displayText }
    }
}
