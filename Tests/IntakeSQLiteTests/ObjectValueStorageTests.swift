import IntakeCore
import IntakeStore
import Testing

@testable import IntakeSQLite

@Suite struct ObjectValueStorageTests {
    @Test func everyValueKindRoundTrips() throws {
        let values: [ObjectValue] = [
            ObjectValue(attribute: "dc:attribute:title", value: .personName(PersonName(title: "Dr", first: "Zoë", last: "O\"Brien\\\n"))),
            ObjectValue(attribute: "std:attribute:email", qualifier: "std:qualifier:work", value: .text(.emailAddress, "a@b.c")),
            ObjectValue(attribute: "std:attribute:telephone", value: .telephone(text: "+44 20 7946 0123", e164: "+442079460123", phoneExtension: nil)),
            ObjectValue(attribute: "dc:attribute:date", value: .datetime(seconds: 1_518_267_900, milliseconds: 0, dateOnly: false)),
            ObjectValue(attribute: "dc:attribute:date", value: .datetime(seconds: 1_518_220_800, milliseconds: 0, dateOnly: true)),
            ObjectValue(attribute: "x:attribute:i", value: .integer(-42)),
            ObjectValue(attribute: "x:attribute:n", value: .number(2.5)),
            ObjectValue(attribute: "x:attribute:b", value: .boolean(true)),
            ObjectValue(attribute: "dc:attribute:author", value: .ref(ObjectRef(32782))),
            ObjectValue(attribute: "dc:attribute:type", value: .objectType("std:type:person")),
            ObjectValue(attribute: "std:attribute:address", value: .postalAddress(PostalAddress(street1: "1 High St", city: "Town", country: "GB"))),
            ObjectValue(attribute: "x:attribute:j", value: .json(.json, .object(JSONObject([("k", .array([.number(1), .string("\u{1}")]))])))),
            ObjectValue(attribute: "std:attribute:notes", value: .text(.textParagraph, "tab\there"))
        ]
        let text = ObjectValueStorage.encode(values)
        let decoded = ObjectValueStorage.decode(text)
        // Stored grouped by attribute, keeping the order within each attribute.
        let expected = values.enumerated().sorted { a, b in
            a.element.attribute == b.element.attribute ? a.offset < b.offset : a.element.attribute < b.element.attribute
        }.map(\.element)
        #expect(decoded == expected)
        #expect(ObjectValueStorage.encode(decoded) == text)
        #expect(ObjectValueStorage.title(values) == "Dr Zoë O\"Brien\\\n")
    }

    /// Stored values are read member by member; text that reading does not take (escaped or
    /// non-ASCII keys, malformed text) is parsed whole instead. Either way the result is what parsing
    /// the whole text and decoding each entry gives.
    @Test(arguments: [
        #"[{"attribute":"a","type":"text","text":"x"},{"attribute":"b","type":"integer","value":12}]"#,
        #" [ { "text" : "x\n\u00e9" , "type":"text" , "attribute":"a", "extra": {"k": [1, null, true]} } ] "#,
        #"[{"attribute":"a","type":"text","text":"first","text":"last"}]"#,
        #"[{"attribute":"a","type":"t\u0065xt","text":"escaped key"}]"#,
        #"[{"attribute":"a","type":"text","tëxt":"non-ASCII key","text":"y"}]"#,
        #"[{"attribute":"a","type":"integer"},{"attribute":"b","type":"boolean","value":false}]"#,
        #"[{"type":"text","text":"no attribute"},{"attribute":"c","type":"file","value":{"digest":"ab"}}]"#,
        #"[{"attribute":"d","type":"person-name","first":"Zoë","last":"Ó"},{"attribute":"e","type":"ref","ref":"8q2"}]"#,
        #"[{"attribute":"f","type":"datetime","value":"2018-02-10"},{"attribute":"g","type":"number","value":-2.5e3}]"#,
        #"[1,{"attribute":"a","type":"text","text":"after a number"}]"#,
        #"[{"attribute":"a","type":"text","text":"unterminated"}"#,
        #"[{"attribute":"a","type":"text","text":"x"}] trailing"#,
        "[]", "{}", "", "null"
    ])
    func bothReadingsAgree(stored: String) {
        var expected: [ObjectValue] = []
        if case .array(let items)? = try? JSONParser.parse(stored) {
            expected = items.compactMap { item in
                guard case .object(let o) = item, let attribute = o["attribute"]?.stringValue,
                    var value = AttributeValueCoding.decode(o)
                else { return nil }
                value.attribute = attribute
                return value
            }
        }
        #expect(ObjectValueStorage.decode(stored) == expected)
        #expect(ObjectValueStorage.decode(utf8: Array(stored.utf8)) == expected)
    }

    @Test func readingsAgreeOnWhatWasWritten() {
        #expect(ObjectValueStorage.decode(#"[{"attribute":"a","type":"text","text":"x"}]"#) == [ObjectValue(attribute: "a", value: .text(.text, "x"))])
        #expect(ObjectValueStorage.decode(#"[{"attribute":"a","type":"t\u0065xt","text":"y"}]"#) == [ObjectValue(attribute: "a", value: .text(.text, "y"))])
    }
}

/// Rollback decisions, from an object's versions alone.
@Suite struct RollbackStepTests {
    @Test func createdChangedAndLaterTouchedObjects() {
        #expect(RollbackStep.plan(versions: [(1, "b", "x")], rollingBack: "b") == .delete)
        #expect(RollbackStep.plan(versions: [(1, "a", "x"), (2, "b", "y"), (3, "b", "z")], rollingBack: "b") == .restore(version: 1))
        #expect(RollbackStep.plan(versions: [(1, "b", "x"), (2, "c", "y")], rollingBack: "b") == .conflict)
        #expect(RollbackStep.plan(versions: [(1, "a", "x")], rollingBack: "b") == .conflict)
    }

    /// Newest first: c's rollback restored what b wrote, so b can be rolled back; a rollback that
    /// restored something else, or a change after it, still conflicts.
    @Test func aLaterRollbackThatRestoredWhatTheBatchWroteIsNoConflict() {
        let undone: [(version: Int, batch: String?, state: String)] = [(1, "a", "x"), (2, "b", "y"), (3, "c", "z"), (4, "rollback of c", "y")]
        #expect(RollbackStep.plan(versions: undone, rollingBack: "b") == .restore(version: 1))
        #expect(RollbackStep.plan(versions: [(1, "b", "y"), (2, "c", "z"), (3, "rollback of c", "y")], rollingBack: "b") == .delete)
        #expect(RollbackStep.plan(versions: [(1, "a", "x"), (2, "b", "y"), (3, "c", "z"), (4, "rollback of d", "w")], rollingBack: "b") == .conflict)
        #expect(RollbackStep.plan(versions: undone + [(5, "d", "y")], rollingBack: "b") == .conflict)
    }
}
