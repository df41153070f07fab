import Testing

@testable import IntakeCore

@Suite struct ValidatorTests {
    let validator = ControlFileValidator(
        vocabulary: ControlFileVocabulary(
            models: ModelRegistry(schema: StandardSchema.make()), readers: ["json"],
            filters: Set(StandardFilters.all.map(\.name))))

    private func messages(_ text: String) throws -> [String] {
        validator.validate(try JSONParser.parse(text))
    }

    @Test func validControlFileHasNoMessages() throws {
        #expect(try messages(control(#"[{"source":"a","destination":"profile","name":"std:attribute:email"}]"#)) == [])
    }

    @Test func rootChecksAllRunInOrder() throws {
        // An array is read as an object with no properties (§9 rule 3); other non-objects get one message.
        #expect(
            try messages("[]") == [
                "Not a control file",
                "Control file does not specify model in the model property",
                "Control file does not specify processing instructions in the instructions property",
                "Control file does not have files property"
            ])
        #expect(try messages(#"[{"model":"haplo:person"}]"#).count == 4)
        for other in [#""control""#, "5", "true", "null"] { #expect(try messages(other) == ["Not a control file"]) }
        #expect(
            try messages("{}") == [
                "Not a control file",
                "Control file does not specify model in the model property",
                "Control file does not specify processing instructions in the instructions property",
                "Control file does not have files property"
            ])
        #expect(
            try messages(#"{"dataImportControlFileVersion":"0","model":"nope","instructions":[],"files":{},"recordProcessor":"x"}"#) == [
                "Bad version of control file, should be 0",
                "Model not implemented: nope",
                "Unknown record processor specified in recordProcessor property: x"
            ])
    }

    @Test func filesCheckKeepsTheLastFailingEntry() throws {
        let text = #"{"dataImportControlFileVersion":0,"model":"haplo:person","instructions":[],"files":{"a":{},"b":{"read":"xml"},"c":{"read":"json"}}}"#
        #expect(try messages(text) == ["Unknown reader for file b: xml"])
        let text2 = #"{"dataImportControlFileVersion":0,"model":"haplo:person","instructions":[],"files":{"b":{"read":"xml"},"a":5}}"#
        #expect(try messages(text2) == ["Reader not specified for file a"])
    }

    @Test func instructionWalkStopsAtFirstError() throws {
        #expect(try messages(control(#"[{"action":"frobnicate"}]"#)) == ["Unknown action in instruction: frobnicate"])
        #expect(try messages(control(#"[{"action":"set-value"}]"#)) == ["Expected property not found in set-value instruction: destination, name, value"])
        #expect(
            try messages(control(#"[{"source":"a","destination":"profile","name":"x","filters":"haplo:to-string"}]"#)) == ["'filters' property is not an array"]
        )
        #expect(
            try messages(control(#"[{"source":"a","destination":"profile","name":"x","filters":["haplo:to-string","nope"]}]"#)) == [
                "Filter nope is not available."
            ])
        #expect(
            try messages(control(#"[{"action":"if-exists","source":"a","then":[{"action":"new"}]},{"action":"bad"}]"#)) == [
                "Expected property not found in new instruction: destination"
            ])
    }

    @Test func forEachOverwriteRule() throws {
        let overwrite = [ControlFileValidator.overwriteMessage]
        #expect(try messages(control(#"[{"action":"for-each","source":"p","instructions":[{"source":"a","destination":"profile","name":"x"}]}]"#)) == overwrite)
        #expect(
            try messages(control(#"[{"action":"for-each","source":"p","instructions":[{"source":"a","destination":"profile","name":"x","multivalue":true}]}]"#))
                == [])
        #expect(
            try messages(
                control(
                    #"[{"action":"for-each","source":"p","instructions":[{"action":"new","destination":"profile"},{"action":"within","source":"q","instructions":[{"source":"a","destination":"profile","name":"x"}]}]}]"#
                )) == [])
        #expect(try messages(control(#"[{"action":"for-each","source":"p","instructions":[{"source":"a","destination":"load:by-ref","name":"ref"}]}]"#)) == [])
        #expect(
            try messages(
                control(
                    #"[{"action":"for-each","source":"p","instructions":[{"action":"new","destination":"profile"},{"action":"for-each","source":"q","instructions":[{"source":"a","destination":"profile","name":"x"}]}]}]"#
                )) == overwrite)
    }

    @Test func loadOtherwiseIsNotWalked() throws {
        #expect(try messages(control(#"[{"action":"load","destination":"profile","using":"load:by-ref","otherwise":[{"action":"bad"}]}]"#)) == [])
    }
}
