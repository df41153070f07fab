import Testing

@testable import IntakeCore

@Suite struct JSONParserTests {
    @Test func keepsKeyOrderAndLastDuplicateValue() throws {
        let v = try JSONParser.parse(#"{"b":1,"a":[true,null,"x"],"b":2}"#)
        #expect(v.compactJSON == #"{"b":2,"a":[true,null,"x"]}"#)
    }

    @Test func decodesEscapesAndSurrogates() throws {
        let v = try JSONParser.parse(#""a\"b\\c\n\u00e9\ud83d\ude00""#)
        #expect(v == .string("a\"b\\c\né😀"))
    }

    @Test func rejectsMalformedInputWithOffset() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("[1,]") }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("{\"a\" 1}") }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("01") }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("[1] x") }
        do {
            _ = try JSONParser.parse("[1, @]")
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 4)
        }
    }

    @Test func jsFormOfNumbers() {
        #expect(JSForm.number(42) == "42")
        #expect(JSForm.number(-3) == "-3")
        #expect(JSForm.number(2.5) == "2.5")
        #expect(JSForm.number(1e-7) == "1e-7")
        #expect(JSForm.number(0.00001) == "0.00001")
        #expect(JSForm.number(1e21) == "1e+21")
        #expect(JSForm.number(123456789012345683968) == "123456789012345680000")
        #expect(JSONValue.array([.number(1), .string("a"), .null]).jsForm == "1,a,")
        #expect(JSONValue.object(JSONObject()).jsForm == "[object Object]")
    }

    @Test func missingValues() {
        #expect(JSONValue.null.isMissing)
        #expect(JSONValue.bool(false).isMissing)
        #expect(JSONValue.string("").isMissing)
        #expect(!JSONValue.number(0).isMissing)
        #expect(!JSONValue.string("0").isMissing)
        #expect(!JSONValue.array([]).isMissing)
    }
}
