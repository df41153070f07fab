/// The value encoding of docs/schema.md ("Value encoding (JSON)"), used by the read API and the store.
package enum AttributeValueCoding {
    package static func datetimeText(_ value: AttributeValue) -> String? {
        guard case .datetime(let seconds, let ms, let dateOnly) = value else { return nil }
        return dateOnly ? CivilTime.isoDate(seconds: seconds) : CivilTime.iso8601(seconds: seconds, milliseconds: ms)
    }

    package static func encode(_ value: ObjectValue) -> JSONObject {
        var o = encode(value.value)
        if let q = value.qualifier { o["qualifier"] = .string(q) }
        return o
    }

    package static func encode(_ value: AttributeValue) -> JSONObject {
        var o = JSONObject()
        o["type"] = .string(value.dataType.rawValue)
        switch value {
        case .text(_, let s):
            o["text"] = .string(s)
        case .telephone(let text, let e164, let phoneExtension):
            o["text"] = .string(text)
            if let e164 { o["e164"] = .string(e164) }
            if let phoneExtension { o["extension"] = .string(phoneExtension) }
        case .datetime:
            o["value"] = .string(datetimeText(value) ?? "")
        case .integer(let i):
            o["value"] = .exactInteger(i)
        case .number(let n):
            o["value"] = .number(n)
        case .boolean(let b):
            o["value"] = .bool(b)
        case .ref(let r):
            o["ref"] = .string(r.text)
        case .objectType(let code):
            o["code"] = .string(code)
        case .personName(let name):
            for (k, v) in name.fields { if let v { o[k] = .string(v) } }
        case .postalAddress(let address):
            for (k, v) in address.fields { if let v { o[k] = .string(v) } }
        case .json(_, let v):
            o["value"] = v
        }
        return o
    }

    package static func decode(_ o: JSONObject) -> ObjectValue? { decode { o[Member.names[$0.rawValue]] } }

    /// The members a value's encoding can have. The stored form of an object's values is read by key
    /// position (`JSONParser.forEachObject`) without building a tree, and both readings go through
    /// `decode(_ member:)`, so they cannot disagree.
    package enum Member: Int, CaseIterable, Sendable {
        case attribute, type, qualifier, text, e164, `extension`, value, ref, code
        case title, first, middle, last, suffix
        case street1, street2, city, county, postcode, country

        /// The JSON key of each member, by raw value.
        package static let names = allCases.map { "\($0)" }
    }

    package static func decode(_ member: (Member) -> JSONValue?) -> ObjectValue? {
        guard let typeName = member(.type)?.stringValue, let type = DataType(rawValue: typeName) else { return nil }
        let qualifier = member(.qualifier)?.stringValue
        let value: AttributeValue
        switch type {
        case .text, .textParagraph, .textMultiline, .configurationName, .isbn, .emailAddress, .url:
            value = .text(type, member(.text)?.stringValue ?? "")
        case .telephoneNumber:
            value = .telephone(
                text: member(.text)?.stringValue ?? "", e164: member(.e164)?.stringValue,
                phoneExtension: member(.extension)?.stringValue)
        case .datetime:
            guard let parsed = CivilTime.parseISO(member(.value)?.stringValue ?? "") else { return nil }
            value = .datetime(seconds: parsed.seconds, milliseconds: parsed.milliseconds, dateOnly: parsed.dateOnly)
        case .integer:
            switch member(.value) {
            case .number(let n)?: value = .integer(Int64(n))
            case .integer(let n)?: value = .integer(n)
            default: return nil
            }
        case .number:
            guard case .number(let n)? = member(.value) else { return nil }
            value = .number(n)
        case .boolean:
            guard case .bool(let b)? = member(.value) else { return nil }
            value = .boolean(b)
        case .ref:
            guard let r = member(.ref)?.stringValue.flatMap(ObjectRef.init(text:)) else { return nil }
            value = .ref(r)
        case .objectType:
            value = .objectType(member(.code)?.stringValue ?? "")
        case .personName:
            value = .personName(
                PersonName(
                    title: member(.title)?.stringValue, first: member(.first)?.stringValue,
                    middle: member(.middle)?.stringValue, last: member(.last)?.stringValue,
                    suffix: member(.suffix)?.stringValue))
        case .postalAddress:
            value = .postalAddress(
                PostalAddress(
                    street1: member(.street1)?.stringValue, street2: member(.street2)?.stringValue,
                    city: member(.city)?.stringValue, county: member(.county)?.stringValue,
                    postcode: member(.postcode)?.stringValue,
                    country: member(.country)?.stringValue ?? ""))
        default:
            value = .json(type, member(.value) ?? .null)
        }
        return ObjectValue(attribute: "", qualifier: qualifier, value: value)
    }

    /// A plain JSON rendering for dictionary documents: text as strings, refs in textual form.
    package static func plainJSON(_ value: AttributeValue) -> JSONValue {
        switch value {
        case .text(_, let s): return .string(s)
        case .telephone(let text, _, _): return .string(text)
        case .datetime: return .string(datetimeText(value) ?? "")
        case .integer(let i): return .exactInteger(i)
        case .number(let n): return .number(n)
        case .boolean(let b): return .bool(b)
        case .ref(let r): return .string(r.text)
        case .objectType(let code): return .string(code)
        case .json(_, let v): return v
        case .personName, .postalAddress:
            var o = encode(value)
            o["type"] = nil
            return .object(o)
        }
    }
}
