/// A person's name: the structured value of `person-name`.
package struct PersonName: Sendable, Hashable {
    package var title: String?
    package var first: String?
    package var middle: String?
    package var last: String?
    package var suffix: String?

    package init(title: String? = nil, first: String? = nil, middle: String? = nil, last: String? = nil, suffix: String? = nil) {
        self.title = title
        self.first = first
        self.middle = middle
        self.last = last
        self.suffix = suffix
    }

    package var fields: [(String, String?)] {
        [("title", title), ("first", first), ("middle", middle), ("last", last), ("suffix", suffix)]
    }

    /// The non-empty parts joined by single spaces, e.g. `Mr Joe Middle Bloggs III`.
    package var displayText: String {
        // Built in place: every saved person's title comes through here.
        var text = ""
        for part in [title, first, middle, last, suffix] {
            guard let part, !part.isEmpty else { continue }
            if !text.isEmpty { text.append(" ") }
            text.append(part)
        }
        return text
    }
}

package struct PostalAddress: Sendable, Hashable {
    package var street1: String?
    package var street2: String?
    package var city: String?
    package var county: String?
    package var postcode: String?
    package var country: String

    package init(
        street1: String? = nil, street2: String? = nil, city: String? = nil, county: String? = nil,
        postcode: String? = nil, country: String
    ) {
        self.street1 = street1
        self.street2 = street2
        self.city = city
        self.county = county
        self.postcode = postcode
        self.country = country
    }

    /// The keys an address is made from, in display order.
    package static let keys: Set<String> = ["street1", "street2", "city", "county", "postcode", "country"]

    package var fields: [(String, String?)] {
        [
            ("street1", street1), ("street2", street2), ("city", city), ("county", county),
            ("postcode", postcode), ("country", country)
        ]
    }
}

/// A typed value stored in an object attribute or a dictionary target.
package enum AttributeValue: Sendable, Hashable {
    /// Plain and typed text: text, text-paragraph, text-multiline, configuration-name, isbn, email-address, url.
    case text(DataType, String)
    /// `phoneExtension`: the extension written after the number (also at the end of `text`).
    case telephone(text: String, e164: String?, phoneExtension: String?)
    /// Seconds since 1970 UTC; `dateOnly` when the format had no time fields.
    case datetime(seconds: Int64, milliseconds: Int, dateOnly: Bool)
    case integer(Int64)
    case number(Double)
    case boolean(Bool)
    case ref(ObjectRef)
    case objectType(String)
    case personName(PersonName)
    case postalAddress(PostalAddress)
    /// `json` values and pass-through values of types the engine does not interpret (`file`, `plugin`…).
    case json(DataType, JSONValue)

    package var dataType: DataType {
        switch self {
        case .text(let t, _): return t
        case .telephone: return .telephoneNumber
        case .datetime: return .datetime
        case .integer: return .integer
        case .number: return .number
        case .boolean: return .boolean
        case .ref: return .ref
        case .objectType: return .objectType
        case .personName: return .personName
        case .postalAddress: return .postalAddress
        case .json(let t, _): return t
        }
    }

    /// The value's text as the object's title would show it.
    package var displayText: String {
        switch self {
        case .text(_, let s): return s
        case .telephone(let text, _, _): return text
        case .datetime: return AttributeValueCoding.datetimeText(self) ?? ""
        case .integer(let i): return String(i)
        case .number(let n): return JSForm.number(n)
        case .boolean(let b): return b ? "true" : "false"
        case .ref(let r): return r.text
        case .objectType(let code): return code
        case .personName(let name): return name.displayText
        case .postalAddress(let a): return a.fields.compactMap { $0.1 }.joined(separator: ", ")
        case .json(_, let v): return v.compactJSON
        }
    }
}

/// One value of an object: attribute, optional qualifier, typed value.
package struct ObjectValue: Sendable, Hashable {
    package var attribute: String
    package var qualifier: String?
    package var value: AttributeValue

    package init(attribute: String, qualifier: String? = nil, value: AttributeValue) {
        self.attribute = attribute
        self.qualifier = qualifier
        self.value = value
    }
}
