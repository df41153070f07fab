import Testing

@testable import IntakeCore

/// Every data type of docs/control-files.md#data-types through a `field` instruction, one value at a time.
@Suite struct DataTypeTests {
    /// Converts `input` for an attribute of `type`; returns the stored value (if any) and the log.
    static func convert(_ type: DataType, _ input: String, extras: String = "") throws -> (AttributeValue?, [String]) {
        var schema = StandardSchema.make()
        try schema.add(AttributeDefinition(code: "t:attribute:x", name: "X", dataType: type))
        try schema.add(TypeDefinition(code: "t:type:x", name: "X", attributes: ["dc:attribute:title", "t:attribute:x"]))
        var h = EngineHarness()
        h.models = ModelRegistry(schema: schema)
        try h.run(
            control(
                model: "TYPE:t:type:x",
                """
                [{"action":"new","destination":"object"},{"action":"set-value","destination":"object","name":"dc:attribute:title","value":"T"},
                 {"source":"v","destination":"object","name":"t:attribute:x"\(extras)}]
                """), ["{\"v\":\(input)}"])
        let object = h.objects(ofType: "t:type:x").first
        return (object?.values.first { $0.attribute == "t:attribute:x" }?.value, h.log)
    }

    @Test(
        arguments: [
            ("\"Joe\"", AttributeValue.text(.text, "Joe")), ("42", .text(.text, "42")), ("2.5", .text(.text, "2.5")),
            ("true", .text(.text, "true"))
        ] as [(String, AttributeValue)])
    func text(_ input: String, _ expected: AttributeValue) throws {
        #expect(try Self.convert(.text, input) == (expected, []))
    }

    @Test func textDropsArraysAndObjectsSilently() throws {
        #expect(try Self.convert(.text, "[1]") == (nil, []))
        #expect(try Self.convert(.text, "{}") == (nil, []))
    }

    @Test func typedTextNeedsANonEmptyNonZeroValue() throws {
        for type in [DataType.textParagraph, .textMultiline, .configurationName, .isbn] {
            #expect(try Self.convert(type, "\"a\\n\\nb\"") == (.text(type, "a\n\nb"), []))
            #expect(try Self.convert(type, "7") == (.text(type, "7"), []))
            #expect(try Self.convert(type, "true") == (.text(type, "true"), []))
            #expect(try Self.convert(type, "0") == (nil, []))
        }
    }

    @Test func datetime() throws {
        #expect(
            try Self.convert(.datetime, "\"2018-02-10\"", extras: #","dateFormat":"yyyy-MM-dd""#)
                == (.datetime(seconds: 1_518_220_800, milliseconds: 0, dateOnly: true), []))
        #expect(
            try Self.convert(.datetime, "\"10 Feb 2018 14:05:09\"", extras: #","dateFormat":"dd MMM yyyy HH:mm:ss""#)
                == (.datetime(seconds: 1_518_271_509, milliseconds: 0, dateOnly: false), []))
        #expect(
            try Self.convert(.datetime, "\"2018-02-10T10:00:00+0100\"", extras: #","dateFormat":"yyyy-MM-dd'T'HH:mm:ssZ""#)
                == (.datetime(seconds: 1_518_253_200, milliseconds: 0, dateOnly: false), []))
        #expect(
            try Self.convert(.datetime, "\"2018-02-30\"", extras: #","dateFormat":"yyyy-MM-dd""#)
                == (nil, ["Invalid date value for input field v: 2018-02-30 (record 0)"]))
        #expect(try Self.convert(.datetime, "20180210", extras: #","dateFormat":"yyyyMMdd""#) == (nil, []))
        #expect(
            try Self.convert(.datetime, "\"20180210\"", extras: #","dateFormat":"yyyyMMdd""#)
                == (.datetime(seconds: 1_518_220_800, milliseconds: 0, dateOnly: true), []))
        #expect(
            try Self.convert(.datetime, "\"x\"", extras: #","dateFormat":5"#) == (
                nil,
                [
                    "Date format not specified for input field v", "Couldn't create value transformer for field object/t:attribute:x"
                ]
            ))
    }

    @Test func boolean() throws {
        #expect(try Self.convert(.boolean, "true") == (.boolean(true), []))
        #expect(try Self.convert(.boolean, "\"true\"") == (.boolean(true), []))
        #expect(try Self.convert(.boolean, "\"false\"") == (.boolean(false), []))
        #expect(try Self.convert(.boolean, "\"Y\"", extras: #","trueValue":"Y","falseValue":"N""#) == (.boolean(true), []))
        #expect(try Self.convert(.boolean, "\"true\"", extras: #","trueValue":"","falseValue":"N""#) == (.boolean(true), []))
        #expect(try Self.convert(.boolean, "1") == (nil, ["Invalid boolean value for input field v: 1 (record 0)"]))
    }

    @Test func integer() throws {
        #expect(try Self.convert(.integer, "\"-12\"") == (.integer(-12), []))
        #expect(try Self.convert(.integer, "9007199254740991") == (.integer(9_007_199_254_740_991), []))
        #expect(try Self.convert(.integer, "4.2") == (nil, ["Invalid integer for input field v: 4.2 (record 0)"]))
        for bad in ["007", "+5", " 5", "5.0", "-0", "", "-"] {
            #expect(try Self.convert(.integer, "\"\(bad)\"").0 == nil)
        }
    }

    @Test func integersAreExactTo64Bits() throws {
        #expect(try Self.convert(.integer, "\"9007199254740993\"") == (.integer(9_007_199_254_740_993), []))
        #expect(try Self.convert(.integer, "9007199254740993") == (.integer(9_007_199_254_740_993), []))
        #expect(try Self.convert(.integer, "\"9223372036854775807\"") == (.integer(.max), []))
        #expect(try Self.convert(.integer, "\"-9223372036854775808\"") == (.integer(.min), []))
        #expect(
            try Self.convert(.integer, "\"9223372036854775808\"")
                == (nil, ["Invalid integer for input field v: 9223372036854775808 (record 0)"]))
        #expect(try Self.convert(.integer, "1e21") == (nil, ["Invalid integer for input field v: 1e+21 (record 0)"]))
        // A big integer keeps its digits through the value encoding both ways.
        let encoded = AttributeValueCoding.encode(ObjectValue(attribute: "a", value: .integer(9_007_199_254_740_993)))
        #expect(JSONValue.object(encoded).compactJSON == #"{"type":"integer","value":9007199254740993}"#)
        #expect(
            AttributeValueCoding.decode(try JSONParser.parse(#"{"type":"integer","value":9007199254740993}"#).objectValue!)?.value
                == .integer(9_007_199_254_740_993))
    }

    @Test(
        arguments: [
            ("2018-02-10 12:00:00", "yyyy-MM-dd", 1_518_220_800 as Int64?),
            ("2018-02-10T09:30", "yyyy-MM-dd", 1_518_220_800),
            ("2018-2-5", "yyyy-MM-dd", 1_517_788_800),
            (" 2018-02-10", "yyyy-MM-dd", 1_518_220_800),
            ("10/2/2018 trailing", "dd/MM/yyyy", 1_518_220_800),
            ("2018-13-01", "yyyy-MM-dd", nil),
            ("2018-01-32", "yyyy-MM-dd", nil),
            ("2017-02-30", "yyyy-MM-dd", nil),
            ("x2018-02-10", "yyyy-MM-dd", nil),
            ("18-02-10", "yy-MM-dd", 1_518_220_800),
            ("2018-02-10 09:00 EST", "yyyy-MM-dd HH:mm z", 1_518_271_200),
            ("2018-02-10 09:00 pdt", "yyyy-MM-dd HH:mm z", 1_518_278_400),
            ("2018-02-10 09:00 GMT+01:00", "yyyy-MM-dd HH:mm z", 1_518_249_600),
            ("2018-02-10 09:00 UTC", "yyyy-MM-dd HH:mm z", 1_518_253_200),
            ("2018-02-10 09:00 Z", "yyyy-MM-dd HH:mm z", 1_518_253_200),
            ("2018-02-10 09:00 CET", "yyyy-MM-dd HH:mm z", nil),
            ("2018-02-10 09:00 +0530", "yyyy-MM-dd HH:mm Z", 1_518_233_400),
            ("201802", "yyyyMMdd", nil)
        ] as [(String, String, Int64?)])
    func datesAreReadFromTheStartOfTheValue(_ value: String, _ pattern: String, _ seconds: Int64?) throws {
        let parsed = try DateFormat(pattern: pattern).parse(value)
        #expect(parsed?.seconds == seconds, "\(value) with \(pattern)")
    }

    @Test func number() throws {
        #expect(try Self.convert(.number, "2.5") == (.number(2.5), []))
        #expect(try Self.convert(.number, "\"12abc\"") == (.number(12), []))
        #expect(try Self.convert(.number, "\"1,000\"") == (.number(1), []))
        #expect(try Self.convert(.number, "\"  .5\"") == (.number(0.5), []))
        #expect(try Self.convert(.number, "\"-Infinity\"") == (.number(-.infinity), []))
        #expect(try Self.convert(.number, "\"abc\"") == (nil, ["Invalid number for input field v: abc (record 0)"]))
    }

    @Test func refsAreWrittenInHaplosHexadecimal() {
        #expect(ObjectRef(32782).text == "800y")
        #expect(ObjectRef(1).text == "1")
        #expect(ObjectRef(0).text == "0")
        #expect(ObjectRef(0xABCDEF).text == "qvwxyz")
        #expect(ObjectRef(Int64(1) << 56).text == "100000000000000")
        for number: Int64 in [1, 15, 16, 255, 256, 32782, 1 << 40, (1 << 60) - 1] {
            #expect(ObjectRef(text: ObjectRef(number).text) == ObjectRef(number))
        }
    }

    @Test func refAcceptsOnlyRefs() throws {
        #expect(try Self.convert(.ref, "\"800y\"") == (nil, []))
        #expect(try Self.convert(.ref, "\"800y\"", extras: #","filters":["haplo:string-to-ref"]"#) == (.ref(ObjectRef(32782)), []))
    }

    @Test func objectTypeJSONEmailURL() throws {
        #expect(try Self.convert(.objectType, "\"std:type:book\"") == (.objectType("std:type:book"), []))
        #expect(try Self.convert(.objectType, "\"no:such:type\"") == (nil, []))
        #expect(try Self.convert(.json, #"{"a":[1]}"#) == (.json(.json, .object(JSONObject([("a", .array([.number(1)]))]))), []))
        #expect(try Self.convert(.json, "\"s\"") == (nil, []))
        #expect(try Self.convert(.emailAddress, "\"a@b\"") == (.text(.emailAddress, "a@b"), []))
        #expect(try Self.convert(.emailAddress, "\"@b\"") == (nil, ["Invalid email address for input field v: @b (record 0)"]))
        #expect(try Self.convert(.emailAddress, "5") == (nil, []))
        #expect(try Self.convert(.url, "\"mailto:x\"") == (.text(.url, "mailto:x"), []))
        #expect(try Self.convert(.url, "\"h2p://x\"") == (nil, ["Invalid URL for input field v: h2p://x (record 0)"]))
    }

    @Test func structuredAndPassThroughTypes() throws {
        #expect(
            try Self.convert(.personName, #"{"first":"A","last":"B","nick":"x"}"#)
                == (.personName(PersonName(first: "A", last: "B")), []))
        #expect(try Self.convert(.personName, #"{"first":"A"}"#) == (nil, []))
        #expect(
            try Self.convert(.postalAddress, #"{"city":"X","country":"gb"}"#) == (
                nil,
                [
                    #"Invalid postal address: {"city":"X","country":"gb"} (Postal addresses must use a recognised country) (record 0)"#
                ]
            ))
        #expect(try Self.convert(.file, #"{"digest":"abc"}"#) == (.json(.file, .object(JSONObject([("digest", .string("abc"))]))), []))
        #expect(try Self.convert(.plugin, "\"s\"") == (nil, []))
        #expect(
            try Self.convert(.telephoneNumber, "\"020 7946 0123\"")
                == (.telephone(text: "+44 20 7946 0123", e164: "+442079460123", phoneExtension: nil), []))
        #expect(
            try Self.convert(.telephoneNumber, "\"823 124 125\"", extras: #","country":"US""#)
                == (.telephone(text: "+1 823124125", e164: nil, phoneExtension: nil), []))
        #expect(
            try Self.convert(.telephoneNumber, "\"020 7047 1111 ext 8767\"")
                == (.telephone(text: "+44 20 7047 1111 ext 8767", e164: "+442070471111", phoneExtension: "8767"), []))
    }

    @Test func postalAddressRefusesKeysItDoesNotKnow() throws {
        #expect(
            try Self.convert(.postalAddress, #"{"street1":"1 High St","town":"X","flat":"2","country":"GB"}"#) == (
                nil,
                [
                    #"Invalid postal address: {"street1":"1 High St","town":"X","flat":"2","country":"GB"} (Invalid key 'town' in dictionary passed to O.text(O.T_IDENTIFIER_POSTAL_ADDRESS,...)) (record 0)"#
                ]
            ))
        // The country is checked first, as the original did.
        #expect(
            try Self.convert(.postalAddress, #"{"town":"X"}"#) == (
                nil, [#"Missing or invalid country code in postal address, must be two letter ISO code: {"town":"X"} (record 0)"#]
            ))
        #expect(
            try Self.convert(.postalAddress, #"{"city":"X","country":"GB"}"#)
                == (.postalAddress(PostalAddress(city: "X", country: "GB")), []))
    }
}

@Suite struct FilterTests {
    static func apply(_ filter: String, _ value: FilterValue) throws -> FilterValue? {
        let descriptor = try #require(StandardFilters.all.first { $0.name == filter })
        return try descriptor.make().apply(value, repository: InMemoryRepository())
    }

    @Test func stringToRef() throws {
        #expect(try Self.apply("haplo:string-to-ref", .json(.string("800y"))) == .ref(ObjectRef(32782)))
        #expect(try Self.apply("haplo:string-to-ref", .ref(ObjectRef(5))) == .ref(ObjectRef(5)))
        #expect(try Self.apply("haplo:string-to-ref", .json(.string("800a"))) == nil)
        #expect(try Self.apply("haplo:string-to-ref", .json(.number(5))) == nil)
    }

    @Test func fixUpURL() throws {
        let cases: [(String, String)] = [
            ("example.org/ping", "https://example.org/ping"), ("//example.org", "//example.org"),
            ("ftp://x.org", "ftp://x.org"), ("www.example2.org", "www.example2.org")
        ]
        for (input, output) in cases {
            #expect(try Self.apply("haplo:fix-up-url", .json(.string(input))) == .json(.string(output)))
        }
        #expect(try Self.apply("haplo:fix-up-url", .json(.number(1))) == nil)
    }

    @Test func caseMappingAndToString() throws {
        #expect(try Self.apply("haplo:to-lower-case", .json(.string("ÅBC"))) == .json(.string("åbc")))
        #expect(try Self.apply("haplo:to-upper-case", .json(.string("straße"))) == .json(.string("STRASSE")))
        #expect(try Self.apply("haplo:to-upper-case", .json(.number(1))) == .json(.number(1)))
        #expect(try Self.apply("haplo:to-string", .json(.number(1e21))) == .json(.string("1e+21")))
        #expect(try Self.apply("haplo:to-string", .json(.array([.bool(true), .null]))) == .json(.string("true,")))
        #expect(try Self.apply("haplo:to-string", .ref(ObjectRef(32782))) == .json(.string("800y")))
    }

    @Test func lookupsThroughTheRepository() throws {
        let repository = InMemoryRepository()
        _ = repository.save(
            ref: ObjectRef(9),
            values: [
                ObjectValue(attribute: StandardSchema.behaviourAttribute, value: .text(.configurationName, "x:list:a")),
                ObjectValue(attribute: StandardSchema.usernameAttribute, value: .text(.text, "jbloggs"))
            ], isNew: true)
        let code = try #require(StandardFilters.all.first { $0.name == "haplo:code-to-ref" }).make()
        #expect(try code.apply(.json(.string("x:list:a")), repository: repository) == .ref(ObjectRef(9)))
        #expect(try code.apply(.json(.string("x:list:b")), repository: repository) == nil)
        let user = try #require(StandardFilters.all.first { $0.name == "haplo:username-to-ref" }).make()
        #expect(try user.apply(.json(.string("JBloggs")), repository: repository) == .ref(ObjectRef(9)))
        #expect(try user.apply(.json(.number(1)), repository: repository) == nil)
    }

    @Test func filtersRunInOrderAfterMapping() throws {
        var h = EngineHarness()
        try h.run(
            control(
                #"""
                [{"action":"new","destination":"profile"},
                 {"action":"set-value","destination":"profile","name":"dc:attribute:title","value":{"last":"T"}},
                 {"source":"x","destination":"profile","name":"std:attribute:job-title",
                  "mapInputValue":{"X":"ABC-900,MNG-100,XYZ-500"},"filters":["haplo:to-upper-case","haplo:to-lower-case"]}]
                """#), [#"{"x":"X"}"#])
        #expect(
            h.objects(ofType: "std:type:person").first?.values.contains(
                ObjectValue(attribute: "std:attribute:job-title", value: .text(.text, "abc-900,mng-100,xyz-500"))) == true)
    }
}
