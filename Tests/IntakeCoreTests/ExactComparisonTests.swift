import Testing

@testable import IntakeCore

/// Input strings compare exactly, code unit by code unit, as in the original: "café" written with a
/// precomposed é does not match "cafe" followed by a combining acute accent, though Swift's `==` says
/// they are equal.
@Suite struct ExactComparisonTests {
    static let precomposed = #"caf\u00e9"#
    static let decomposed = #"cafe\u0301"#

    static let person = #"""
        {"action":"new","destination":"profile"},
        {"source":"last","destination":"value:person-name","name":"last"},
        {"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"}
        """#

    @Test func stringsAreExactlyEqualOnlyWithTheSameScalars() {
        #expect("café" == "cafe\u{301}")  // what Swift says
        #expect(!"café".isExactly("cafe\u{301}"))
        #expect("café".isExactly("caf\u{e9}"))
        #expect(JSONValue.string("café") != .string("cafe\u{301}"))
        #expect(ExactKey("café") != ExactKey("cafe\u{301}"))
        #expect(JSONObject([("café", .null)])["cafe\u{301}"] == nil)
    }

    @Test func ifValueOneOfComparesExactly() throws {
        var h = EngineHarness()
        try h.run(
            control(
                """
                [\(Self.person),
                 {"action":"if-value-one-of","source":"word","values":["\(Self.precomposed)"],"then":[{"action":"log-error","message":"matched"}]}]
                """), [#"{"last":"A","word":"\#(Self.decomposed)"}"#, #"{"last":"B","word":"\#(Self.precomposed)"}"#])
        #expect(h.log == ["matched (record 1)"])
    }

    @Test func mapInputValueKeysCompareExactly() throws {
        var h = EngineHarness()
        try h.run(
            control(
                """
                [\(Self.person),
                 {"source":"word","destination":"profile","name":"std:attribute:job-title","mapInputValue":{"\(Self.precomposed)":"Mapped"}}]
                """), [#"{"last":"A","word":"\#(Self.decomposed)"}"#, #"{"last":"B","word":"\#(Self.precomposed)"}"#])
        let titles = h.objects(ofType: "std:type:person").map { person in
            person.values.first { $0.attribute == "std:attribute:job-title" }?.value.displayText ?? ""
        }
        #expect(titles == ["cafe\u{301}", "Mapped"])
        #expect(!titles[0].isExactly("café"))
    }

    @Test func recordFieldNamesCompareExactly() throws {
        var h = EngineHarness()
        try h.run(
            control(
                """
                [\(Self.person),
                 {"source":"\(Self.precomposed)","destination":"profile","name":"std:attribute:job-title"}]
                """), [#"{"last":"A","\#(Self.decomposed)":"x"}"#])
        let person = try #require(h.objects(ofType: "std:type:person").first)
        #expect(!person.values.contains { $0.attribute == "std:attribute:job-title" })
    }
}
