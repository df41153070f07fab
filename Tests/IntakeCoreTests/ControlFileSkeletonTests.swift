import IntakeCore
import Testing

/// The control-file skeleton generator (the admin UI's "Generate control file").
@Suite struct ControlFileSkeletonTests {
    let models = ModelRegistry(schema: StandardSchema.make())

    @Test func aPersonStartsByLoadingTheProfileAndStructuredNamesGetTheirParts() throws {
        let model = try #require(models["haplo:person"])
        let skeleton = ControlFileSkeleton.generate(
            model: model,
            selections: [.init(destination: "profile", name: "dc:attribute:title"), .init(destination: "profile", name: "std:attribute:email")])
        #expect(skeleton["dataImportControlFileVersion"] == .number(0))
        #expect(skeleton.objectValue?.keys == ["dataImportControlFileVersion", "model", "files", "instructions"])
        let instructions = try #require(skeleton["instructions"]?.arrayValue)
        #expect(instructions.count == 9)
        #expect(instructions[1].compactJSON == #"{"action":"load","destination":"profile","using":"load:by-ref"}"#)
        #expect(instructions[2].compactJSON == #"{"source":"TODO-TITLE-TITLE","destination":"value:person-name","name":"title"}"#)
        #expect(instructions[5]["source"] == .string("TODO-TITLE-LAST"))
        #expect(
            instructions[7].compactJSON
                == #"{"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"}"#)
        #expect(instructions[8].compactJSON == #"{"source":"TODO-EMAIL","destination":"profile","name":"std:attribute:email"}"#)
    }

    @Test func otherModelsStartWithANewObjectAndMultivalueClearsFirst() throws {
        let model = try #require(models["TYPE:std:type:person"])
        let skeleton = ControlFileSkeleton.generate(
            model: model,
            selections: [
                .init(destination: "object", name: "std:attribute:telephone", multivalue: true),
                .init(destination: "object", name: "dc:attribute:type")
            ])
        let instructions = try #require(skeleton["instructions"]?.arrayValue).map(\.compactJSON)
        #expect(instructions.first == #"{"action":"new","destination":"object"}"#)
        #expect(instructions.contains(#"{"action":"remove-values","destination":"object","name":"std:attribute:telephone"}"#))
        #expect(instructions.contains { $0.contains(#""country":"GB","multivalue":true"#) })
        #expect(instructions.contains { $0.contains(#""mapInputValue":{"TODO-N1":"TODO-type:code"}"#) })
        #expect(ControlFileSkeleton.generate(model: model, selections: [])["instructions"] == .array([]))
    }

    @Test func prettyJSONKeepsKeyOrderAndIndents() throws {
        let value = try JSONParser.parse(#"{"b":1,"a":[true,{"é":"x"}],"c":{},"d":[]}"#)
        #expect(value.prettyJSON(indent: 2) == "{\n  \"b\": 1,\n  \"a\": [\n    true,\n    {\n      \"é\": \"x\"\n    }\n  ],\n  \"c\": {},\n  \"d\": []\n}")
    }
}
