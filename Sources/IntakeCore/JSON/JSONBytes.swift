/// A small JSON writer over a byte buffer.
package struct JSONBytes: Sendable {
    package private(set) var bytes: [UInt8] = []

    package init() { bytes.reserveCapacity(512) }

    package var text: String { String(decoding: bytes, as: UTF8.self) }

    package mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    /// Literal punctuation and keys: copied from the binary without making a String.
    package mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// `,"key":"value"`; keys are literals that need no escaping.
    package mutating func field(_ key: StaticString, _ value: String, shortEscapes: Bool = false) {
        bytes.append(UInt8(ascii: ","))
        bytes.append(UInt8(ascii: "\""))
        raw(key)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        string(value, shortEscapes: shortEscapes)
    }

    package mutating func field(_ key: String, _ value: String, shortEscapes: Bool = false) {
        bytes.append(UInt8(ascii: ","))
        string(key, shortEscapes: shortEscapes)
        bytes.append(UInt8(ascii: ":"))
        string(value, shortEscapes: shortEscapes)
    }

    /// An object value in the read API's encoding (docs/schema.md "Value encoding"): what
    /// `JSONValue.object(AttributeValueCoding.encode(value)).compactJSON` writes, without building the
    /// object and its text (that was a fifth of an import's run loop, for the results' diffs).
    /// `attribute` puts the attribute first, as the stored form has it; the stored form also writes
    /// backspace and form feed long (see `string`).
    package mutating func value(_ value: ObjectValue, attribute: Bool, shortEscapes: Bool) {
        if attribute {
            raw("{\"attribute\":")
            string(value.attribute, shortEscapes: shortEscapes)
            raw(",\"type\":")
        } else {
            raw("{\"type\":")
        }
        string(value.value.dataType.rawValue, shortEscapes: shortEscapes)
        switch value.value {
        case .text(_, let text):
            field("text", text, shortEscapes: shortEscapes)
        case .telephone(let text, let e164, let phoneExtension):
            field("text", text, shortEscapes: shortEscapes)
            if let e164 { field("e164", e164, shortEscapes: shortEscapes) }
            if let phoneExtension { field("extension", phoneExtension, shortEscapes: shortEscapes) }
        case .datetime:
            field("value", AttributeValueCoding.datetimeText(value.value) ?? "", shortEscapes: shortEscapes)
        case .integer(let n):
            raw(",\"value\":")
            raw(String(n))
        case .number(let n):
            raw(",\"value\":")
            raw(n.isFinite ? JSForm.number(n) : "null")
        case .boolean(let b):
            raw(b ? ",\"value\":true" : ",\"value\":false")
        case .ref(let r):
            field("ref", r.text, shortEscapes: shortEscapes)
        case .objectType(let code):
            field("code", code, shortEscapes: shortEscapes)
        case .personName(let name):
            if let x = name.title { field("title", x, shortEscapes: shortEscapes) }
            if let x = name.first { field("first", x, shortEscapes: shortEscapes) }
            if let x = name.middle { field("middle", x, shortEscapes: shortEscapes) }
            if let x = name.last { field("last", x, shortEscapes: shortEscapes) }
            if let x = name.suffix { field("suffix", x, shortEscapes: shortEscapes) }
        case .postalAddress(let address):
            for (k, x) in address.fields { if let x { field(k, x, shortEscapes: shortEscapes) } }
        case .json(_, let json):
            raw(",\"value\":")
            raw(json.compactJSON)
        }
        if let q = value.qualifier { field("qualifier", q, shortEscapes: shortEscapes) }
        raw("}")
    }

    /// A JSON string. With `shortEscapes`, backspace and form feed are written `\b` and `\f`, as
    /// `JSONValue.writeString` (and JavaScript's `JSON.stringify`) writes them, else as `\u0008` and
    /// `\u000c`, as the stored form of values has always had them.
    package mutating func string(_ s: String, shortEscapes: Bool = false) {
        bytes.append(UInt8(ascii: "\""))
        // Most values need no escaping: copy them in one go, straight from the string's storage.
        let copied: Bool? = s.utf8.withContiguousStorageIfAvailable { buffer in
            for b in buffer where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
            bytes.append(contentsOf: buffer)
            return true
        }
        if copied == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08 where shortEscapes: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C where shortEscapes: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
