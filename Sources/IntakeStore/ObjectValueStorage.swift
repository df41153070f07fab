import IntakeCore

/// How object values are stored, by every backend: a JSON array of docs/schema.md value encodings,
/// each with its `attribute`. Values are grouped by attribute code (a stable sort, so the order within
/// an attribute is kept): replacing a value moves it to the end of the object, and that must not make
/// an otherwise equal object look changed. Equal values give equal text, so the "unchanged" test is a
/// string comparison.
package enum ObjectValueStorage {
    package static func encode(_ values: [ObjectValue]) -> String {
        String(decoding: encodedBytes(values), as: UTF8.self)
    }

    /// The UTF-8 of `encode(values)`.
    package static func encodedBytes(_ values: [ObjectValue]) -> [UInt8] {
        // Positions sorted, not values: sorting the values themselves copies every payload.
        let order = values.indices.sorted { a, b in
            values[a].attribute == values[b].attribute ? a < b : values[a].attribute < values[b].attribute
        }
        // Written as bytes, field by field: this runs for every saved object, and going through
        // JSONObject and String appends cost more than the SQL that stores the result.
        var out = JSONBytes()
        out.raw("[")
        for (i, position) in order.enumerated() {
            if i > 0 { out.raw(",") }
            out.value(values[position], attribute: true, shortEscapes: false)
        }
        out.raw("]")
        return out.bytes
    }

    package static func decode(_ text: String) -> [ObjectValue] {
        var text = text
        return text.withUTF8 { decode(utf8: $0) }
    }

    package static func decode(utf8 bytes: [UInt8]) -> [ObjectValue] {
        bytes.withUnsafeBufferPointer { decode(utf8: $0) }
    }

    private static let memberKeys = JSONParser.KeySet(AttributeValueCoding.Member.names)

    /// Read member by member, without a tree of the whole array (a nightly re-import loads every
    /// object it touches); anything `forEachObject` does not take is read the general way.
    package static func decode(utf8 bytes: UnsafeBufferPointer<UInt8>) -> [ObjectValue] {
        var values: [ObjectValue] = []
        let read = JSONParser.forEachObject(inArray: bytes, keys: memberKeys) { members in
            if let value = storedValue({ members[$0.rawValue] }) { values.append(value) }
        }
        return read ? values : decodeParsed(bytes)
    }

    private static func decodeParsed(_ bytes: UnsafeBufferPointer<UInt8>) -> [ObjectValue] {
        guard case .array(let items)? = try? JSONParser.parse(bytes) else { return [] }
        return items.compactMap { item in
            guard case .object(let o) = item else { return nil }
            return storedValue { o[AttributeValueCoding.Member.names[$0.rawValue]] }
        }
    }

    /// One stored entry: a value's encoding with its `attribute`; nil when either is missing or
    /// not understood (the entry is skipped).
    private static func storedValue(_ member: (AttributeValueCoding.Member) -> JSONValue?) -> ObjectValue? {
        guard let attribute = member(.attribute)?.stringValue, var value = AttributeValueCoding.decode(member) else { return nil }
        value.attribute = attribute
        return value
    }

    package static func title(_ values: [ObjectValue]) -> String { titleColumns(values).title }

    /// Every title, each followed by a unit separator and the first preceded by one, so that
    /// `instr(titles, titleSearchKey(t))` finds exactly the objects with `t` among their titles.
    package static func titles(_ values: [ObjectValue]) -> String { titleColumns(values).titles }

    /// `title(values)` and `titles(values)` in one pass, each title's text made once.
    package static func titleColumns(_ values: [ObjectValue]) -> (title: String, titles: String) {
        var first: String?
        var text = separator
        for value in values where value.attribute == StandardSchema.titleAttribute {
            let display = value.value.displayText
            if first == nil { first = display }
            text += display
            text += separator
        }
        return (first ?? "", text)
    }

    package static func titleSearchKey(_ title: String) -> String { separator + title + separator }

    private static let separator = "\u{1F}"

    package static func type(_ values: [ObjectValue]) -> String? {
        for v in values where v.attribute == StandardSchema.typeAttribute {
            if case .objectType(let code) = v.value { return code }
        }
        return nil
    }

    package static func firstText(_ values: [ObjectValue], _ attribute: String) -> String? {
        values.first { $0.attribute == attribute }.map { $0.value.displayText }
    }
}
