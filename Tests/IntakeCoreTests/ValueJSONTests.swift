import Testing

@testable import IntakeCore

/// Result lines write object values straight into bytes (`JSONBytes.value`); they must be the bytes
/// the read API's encoding gives (`AttributeValueCoding.encode` written by `compactJSON`), for every
/// kind of value and every character a string can hold.
@Suite struct ValueJSONTests {
    static let texts = [
        "", "plain", "quote \" and \\ backslash", "line\nbreak\r\ttab", "\u{08}backspace \u{0C}form feed", "\u{0}\u{1}\u{1F}",
        "café", "cafe\u{301}", "日本語", "emoji 🧑‍🔬", "\u{7F} delete", "\u{2028} separator", "</script>"
    ]

    static var values: [ObjectValue] {
        var values: [ObjectValue] = []
        for (i, text) in texts.enumerated() {
            let qualifier = i % 3 == 0 ? nil : "std:qualifier:\(text)"
            let kinds: [AttributeValue] = [
                .text(.text, text), .text(.emailAddress, text),
                .telephone(text: text, e164: i % 2 == 0 ? "+44\(i)" : nil, phoneExtension: i % 3 == 0 ? text : nil),
                .objectType(text), .personName(PersonName(title: text, first: i % 2 == 0 ? nil : text, last: text, suffix: i % 4 == 0 ? text : nil)),
                .postalAddress(PostalAddress(street1: text, city: i % 2 == 0 ? nil : text, postcode: text, country: "GB")),
                .json(.json, .object(JSONObject([("k", .string(text)), ("n", .number(1.5))])))
            ]
            values += kinds.map { ObjectValue(attribute: "dc:attribute:\(i)", qualifier: qualifier, value: $0) }
        }
        let numbers: [AttributeValue] = [
            .integer(0), .integer(-7), .integer(9_007_199_254_740_992), .integer(9_007_199_254_740_993), .integer(.min), .integer(.max),
            .number(0), .number(-0.0), .number(1.5), .number(1e21), .number(1e-7), .number(.infinity), .number(.nan), .number(123456789.125),
            .boolean(true), .boolean(false), .ref(ObjectRef(1)), .ref(ObjectRef(123_456)),
            .datetime(seconds: 0, milliseconds: 0, dateOnly: true), .datetime(seconds: 1_700_000_000, milliseconds: 250, dateOnly: false)
        ]
        values += numbers.map { ObjectValue(attribute: "a", value: $0) }
        return values
    }

    @Test func resultBytesAreTheReadAPIEncoding() {
        for value in Self.values {
            var out = JSONBytes()
            out.value(value, attribute: false, shortEscapes: true)
            #expect(out.text == JSONValue.object(AttributeValueCoding.encode(value)).compactJSON, "\(value)")
        }
    }

    @Test func theStoredFormPutsTheAttributeFirstAndWritesControlCharactersLong() {
        let value = ObjectValue(attribute: "x\u{08}", qualifier: "q", value: .text(.text, "a\u{0C}b"))
        var out = JSONBytes()
        out.value(value, attribute: true, shortEscapes: false)
        #expect(out.text == #"{"attribute":"x\u0008","type":"text","text":"a\u000cb","qualifier":"q"}"#)
    }
}
