import Testing

@testable import IntakeCore

/// Dependent destinations, annotated types, checks and the remaining instructions, record by record.
@Suite struct DestinationTests {
    static let schemaFile = #"""
        {"attributes": [{"code": "t:attribute:owner", "name": "Owner", "dataType": "link"},
                        {"code": "t:attribute:group", "name": "Group", "dataType": "json"}],
         "types": [{"code": "t:type:thing", "name": "Thing", "annotations": ["t:annotation:pub"],
                    "attributes": ["dc:attribute:title", "t:attribute:owner", "t:attribute:group", "std:attribute:notes"]},
                   {"code": "t:type:other", "name": "Other", "annotations": ["t:annotation:pub"], "attributes": ["dc:attribute:title"]}],
         "models": [{"name": "t:m", "destinations": [
            {"name": "owner", "kind": "object", "objectType": "std:type:person", "objectAttributesOverride": {"dc:attribute:title": {"type": "text"}}},
            {"name": "thing", "kind": "object", "objectType": "t:type:thing", "depends": "owner",
             "objectDependsWithAttribute": "t:attribute:owner", "optional": true},
            {"name": "unlinked", "kind": "object", "objectType": "t:type:thing", "depends": "owner", "optional": true},
            {"name": "pub", "kind": "object", "annotatedTypes": "t:annotation:pub", "optional": true},
            {"name": "members", "kind": "dictionary", "pseudo": true,
             "dictionaryNames": {"role": {"type": "text"}, "since": {"type": "text"}}}]}]}
        """#

    static func harness() throws -> EngineHarness {
        var schema = StandardSchema.make()
        try SchemaFile.apply(try JSONParser.parse(schemaFile), named: "t.json", to: &schema)
        var h = EngineHarness()
        h.models = ModelRegistry(schema: schema)
        return h
    }

    static let owner = #"{"action":"new","destination":"owner"},{"action":"set-value","destination":"owner","name":"dc:attribute:title","value":"O"}"#

    @Test func dependentObjectIsLinkedToANewParentAtCommit() throws {
        var h = try Self.harness()
        try h.run(control(model: "t:m", "[\(Self.owner),{\"source\":\"t\",\"destination\":\"thing\",\"name\":\"dc:attribute:title\"}]"), [#"{"t":"T"}"#])
        let thing = try #require(h.objects(ofType: "t:type:thing").first)
        let owner = try #require(h.objects(ofType: "std:type:person").first)
        #expect(thing.values.contains(ObjectValue(attribute: "t:attribute:owner", value: .ref(owner.ref))))
        #expect(h.log.isEmpty)
    }

    @Test func dependentWithoutLinkAttributeCannotBeMadeAvailable() throws {
        var h = try Self.harness()
        try h.run(control(model: "t:m", "[\(Self.owner),{\"source\":\"t\",\"destination\":\"unlinked\",\"name\":\"dc:attribute:title\"}]"), [#"{"t":"T"}"#])
        #expect(h.log == [#"Couldn't make destination "unlinked" available from dependency "owner" (record 0)"#])
        #expect(h.repository.objects.isEmpty)
    }

    @Test func usingADependentBeforeItsParentNamesTheDependent() throws {
        var h = try Self.harness()
        try h.run(control(model: "t:m", #"[{"source":"t","destination":"thing","name":"dc:attribute:title"}]"#), [#"{"t":"T"}"#])
        #expect(h.log == [#"Destination "owner" needs be made ready with a "new" or "load" instruction, required by use of thing  (record 0)"#])
    }

    @Test func annotatedTypesNeedATypeAtCommit() throws {
        var h = try Self.harness()
        try h.run(
            control(
                model: "t:m",
                """
                [\(Self.owner),{"action":"new","destination":"pub"},{"source":"t","destination":"pub","name":"dc:attribute:title"},
                 {"action":"if-exists","source":"type","then":[{"source":"type","destination":"pub","name":"dc:attribute:type"}]}]
                """), [#"{"t":"A"}"#, #"{"t":"B","type":"t:type:other"}"#])
        #expect(h.log == ["annotatedTypes used but target has no type defined (record 0)"])
        // Record 0's owner is still committed (compat); record 1 commits both.
        #expect(h.objects(ofType: "std:type:person").count == 2)
        #expect(h.objects(ofType: "t:type:other").map { $0.values.first?.value } == [.text(.text, "B")])
    }

    @Test func assertDestination() throws {
        var h = try Self.harness()
        try h.run(
            control(
                model: "t:m",
                """
                [\(Self.owner),{"action":"assert-destination","destination":"thing","exists":true},
                 {"action":"assert-destination","destination":"thing","exists":"yes"}]
                """), ["{}"])
        #expect(h.log == ["assert-destination failed: thing (record 0)"])
        var prep = try Self.harness()
        try prep.run(
            control(
                model: "t:m",
                #"""
                [{"action":"assert-destination","destination":"owner","exists":true},{"action":"assert-destination","destination":"nope","exists":true}]
                """#), [])
        #expect(
            prep.log == [
                "Can only use dependent destinations in assert-destination: owner",
                "Unknown destination in assert-destination: nope"
            ])
    }

    @Test func removeValuesAndIfHasValue() throws {
        var h = try Self.harness()
        try h.run(
            control(
                model: "t:m",
                """
                [\(Self.owner),{"source":"n","destination":"owner","name":"std:attribute:notes","multivalue":true},
                 {"action":"remove-values","destination":"owner","name":"std:attribute:notes"},
                 {"action":"if-has-value","destination":"owner","name":"std:attribute:notes","then":[{"action":"log-error","message":"still there"}],
                  "else":[{"action":"log-error","message":"removed"}]},
                 {"action":"remove-values","destination":"owner","name":"std:attribute:nope"}]
                """), [#"{"n":"x"}"#])
        #expect(h.log == ["Unknown name in remove-values for destination owner", "removed (record 0)"])
    }

    @Test func setAttributeGroupAppendsTheGatheredValues() throws {
        var h = try Self.harness()
        try h.run(
            control(
                model: "t:m",
                """
                [\(Self.owner),{"source":"t","destination":"thing","name":"dc:attribute:title"},
                 {"action":"for-each","source":"groups","instructions":[
                   {"source":"role","destination":"members","name":"role","multivalue":true},{"source":"since","destination":"members","name":"since","multivalue":true},
                   {"action":"set-attribute-group","source":"members","destination":"thing","name":"t:attribute:group"}]},
                 {"action":"set-attribute-group","source":"nowhere","destination":"thing","name":"t:attribute:group"}]
                """), [#"{"t":"T","groups":[{"role":"PI","since":"2020"},{"role":"Co-I"}]}"#])
        #expect(h.log == ["Unknown attribute group destination in set-attribute-group: nowhere"])
        let thing = try #require(h.objects(ofType: "t:type:thing").first)
        #expect(
            thing.values.filter { $0.attribute == "t:attribute:group" }.map(\.value) == [
                .json(.json, .object(JSONObject([("role", .string("PI")), ("since", .string("2020"))]))),
                .json(.json, .object(JSONObject([("role", .string("Co-I"))])))
            ])
    }

    @Test func dictionaryMultivalueRules() throws {
        var schema = StandardSchema.make()
        try SchemaFile.apply(
            try JSONParser.parse(
                #"""
                {"models": [{"name": "t:d", "destinations": [{"name": "d", "kind": "dictionary",
                  "dictionaryNames": {"one": {"type": "text"}, "many": {"type": "text", "multivalue": true}}}]}]}
                """#), named: "d.json", to: &schema)
        var h = EngineHarness()
        h.models = ModelRegistry(schema: schema)
        try h.run(
            control(
                model: "t:d",
                #"""
                [{"action":"new","destination":"d"},
                 {"source":"a","destination":"d","name":"one","multivalue":true},{"source":"b","destination":"d","name":"one"},
                 {"source":"a","destination":"d","name":"many"},{"source":"b","destination":"d","name":"many","multivalue":true},
                 {"source":"c","destination":"d","name":"many","multivalue":true,"qualifier":"std:qualifier:work"}]
                """#), [#"{"a":"A","b":"B","c":"C"}"#])
        #expect(h.log.isEmpty)
        #expect(h.repository.documents.map(\.3) == [JSONObject([("one", .string("B")), ("many", .array([.string("A"), .string("B"), .string("C")]))])])
    }
}
