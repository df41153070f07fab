import Testing

@testable import IntakeCore

@Suite struct ModelRegistryTests {
    static func registry(_ schemaFile: String) throws -> ModelRegistry {
        var schema = StandardSchema.make()
        try SchemaFile.apply(try JSONParser.parse(schemaFile), named: "s.json", to: &schema)
        return ModelRegistry(schema: schema)
    }

    @Test func automaticAndPersonModels() throws {
        let models = ModelRegistry(schema: StandardSchema.make())
        let book = try #require(models["TYPE:std:type:book"])
        #expect(book.title == "Book")
        #expect(book.description == "Objects of type Book")
        #expect(book.destinations.map(\.name) == ["object", "load:by-ref", "value:person-name", "value:postal-address"])
        let object = book.destinations[0]
        #expect(object.name("dc:attribute:title")?.required == true)
        #expect(object.name("std:attribute:isbn")?.dataType == .isbn)
        #expect(object.name("dc:attribute:type")?.dataType == .objectType)
        #expect(object.names.values.allSatisfy { $0.multivalue })
        let person = try #require(models["haplo:person"])
        #expect(person.destination("profile")?.name("dc:attribute:title")?.dataType == .personName)
        #expect(person.destination("profile")?.acceptedTypes.contains("std:type:person:staff") == true)
    }

    @Test func schemaFileModelsWithWithoutAndOverrides() throws {
        let models = try Self.registry(
            #"""
            {"types": [{"code": "t:type:thing", "name": "Thing", "annotations": ["t:annotation:a"],
                        "attributes": ["dc:attribute:title", "std:attribute:notes", "std:attribute:url"]},
                       {"code": "t:type:other", "name": "Other", "annotations": ["t:annotation:a"], "attributes": ["dc:attribute:date"]}],
             "models": [{"name": "t:m", "destinations": [
                {"name": "thing", "kind": "object", "objectType": "t:type:thing", "without": ["std:attribute:url"],
                 "objectAttributesOverride": {"std:attribute:notes": {"type": "text", "required": true},
                                              "dc:attribute:type": {"type": "text"}}},
                {"name": "any", "kind": "object", "annotatedTypes": "t:annotation:a", "optional": true},
                {"name": "info", "kind": "dictionary", "dictionaryNames": {"one": {"type": "text", "required": true}}}]}]}
            """#)
        let model = try #require(models["t:m"])
        let thing = try #require(model.destination("thing"))
        #expect(thing.name("std:attribute:url") == nil)
        #expect(thing.name("std:attribute:notes")?.dataType == .text)
        #expect(thing.name("std:attribute:notes")?.required == true)
        #expect(thing.name("dc:attribute:type")?.dataType == .objectType)
        let any = try #require(model.destination("any"))
        #expect(any.acceptedTypes == ["t:type:thing", "t:type:other"])
        #expect(any.name("dc:attribute:date") != nil)
        #expect(model.destination("info")?.kind == .dictionary)
    }

    @Test func badSchemaFilesNameTheFileAndCode() throws {
        #expect(throws: SchemaFile.LoadError.self) { try Self.registry(#"{"types":[{"code":"std:type:person","name":"Again"}]}"#) }
        do {
            _ = try Self.registry(#"{"types":[{"code":"x:type:a","name":"A","attributes":["x:attribute:missing"]}]}"#)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)" == "Schema file s.json: unknown code x:attribute:missing (attribute of x:type:a)")
        }
    }
}
