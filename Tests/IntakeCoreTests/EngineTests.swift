import Testing

@testable import IntakeCore

@Suite struct EngineTests {
    static let person = #"""
        [{"action":"new","destination":"profile"},
         {"source":"first","destination":"value:person-name","name":"first"},
         {"source":"last","destination":"value:person-name","name":"last"},
         {"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"},
         {"source":"email","destination":"profile","name":"std:attribute:email"}]
        """#

    @Test func newPersonWithStructuredNameAndEmail() throws {
        var h = EngineHarness()
        try h.run(control(Self.person), [#"{"first":"Joe","last":"Bloggs","email":"joe@example.org"}"#])
        let people = h.objects(ofType: "std:type:person")
        #expect(people.count == 1)
        #expect(
            people[0].values == [
                ObjectValue(attribute: "dc:attribute:title", value: .personName(PersonName(first: "Joe", last: "Bloggs"))),
                ObjectValue(attribute: "std:attribute:email", value: .text(.emailAddress, "joe@example.org")),
                ObjectValue(attribute: "dc:attribute:type", value: .objectType("std:type:person"))
            ])
        #expect(h.log.isEmpty)
    }

    @Test func conversionErrorsCarryTheRecordSuffixAndDoNotAbort() throws {
        var h = EngineHarness()
        try h.run(control(Self.person), [#"{"last":"A","email":"a@x.org"}"#, #"{"last":"B","email":"@example.com"}"#])
        #expect(h.log == ["Invalid email address for input field email: @example.com (record 1)"])
        #expect(h.objects(ofType: "std:type:person").count == 2)
    }

    @Test func missingTitleAbortsWithHintOnce() throws {
        var h = EngineHarness()
        try h.run(control(Self.person), [#"{"email":"a@x.org"}"#, #"{"email":"b@x.org"}"#])
        #expect(
            h.log == [
                "dc:attribute:title is not set in object profile (record 0)",
                "To set defaults for dc:attribute:title, see example of if-has-value instruction at https://docs.haplo.org/import/control/instruction/if-has-value (record 0)",
                "dc:attribute:title is not set in object profile (record 1)"
            ])
        #expect(h.repository.objects.isEmpty)
    }

    @Test func destinationMustBeMadeReady() throws {
        var h = EngineHarness()
        try h.run(control(#"[{"source":"e","destination":"profile","name":"std:attribute:email"}]"#), [#"{"e":"a@b.c"}"#, "{}"])
        #expect(
            h.log == [
                #"Destination "profile" needs be made ready with a "new" or "load" instruction (record 0)"#,
                "No data set in required destination profile (record 1)"
            ])
    }

    @Test func loadByRefUpdatesAndOtherwiseCreates() throws {
        var h = EngineHarness()
        let instructions = #"""
            [{"source":"ref","destination":"load:by-ref","name":"ref","filters":["haplo:string-to-ref"]},
             {"action":"load","destination":"profile","using":"load:by-ref","otherwise":[{"action":"new","destination":"profile"}]},
             {"source":"name","destination":"profile","name":"dc:attribute:title"},
             {"source":"job","destination":"profile","name":"std:attribute:job-title"}]
            """#
        // person-name Names take dictionaries; a plain string is dropped, so use a record object.
        try h.run(control(instructions), [#"{"name":{"last":"Smith"},"job":"Lecturer"}"#])
        let created = try #require(h.objects(ofType: "std:type:person").first)
        #expect(created.ref.text == "8000")
        try h.run(control(instructions), [#"{"ref":"8000","name":{"last":"Smith"},"job":"Professor"}"#])
        let updated = try #require(h.repository.objects[created.ref])
        #expect(updated.version == 2)
        #expect(updated.values.contains(ObjectValue(attribute: "std:attribute:job-title", value: .text(.text, "Professor"))))
        #expect(h.repository.objects.count == 1)
        // Saving the same values again changes nothing.
        let saves = h.repository.saves
        try h.run(control(instructions), [#"{"ref":"8000","name":{"last":"Smith"},"job":"Professor"}"#])
        #expect(h.repository.saves == saves)
    }

    @Test func loadWithoutOtherwiseAborts() throws {
        var h = EngineHarness()
        try h.run(control(#"[{"action":"load","destination":"profile","using":"load:by-ref"}]"#), ["{}"])
        #expect(h.log == ["Couldn't load destination: profile (record 0)"])
    }

    @Test func conditionalsWithinAndForEach() throws {
        var h = EngineHarness()
        let instructions = #"""
            [{"action":"new","destination":"profile"},
             {"action":"within","source":"name","instructions":[
                {"source":"f","destination":"value:person-name","name":"first"},
                {"source":"l","destination":"value:person-name","name":"last"}]},
             {"action":"field-structured","structured":"value:person-name","destination":"profile","name":"dc:attribute:title"},
             {"action":"if-exists","source":"staff","then":[
                {"action":"set-value","destination":"profile","name":"dc:attribute:type","value":"std:type:person:staff"}],
              "else":[{"action":"log-error","message":"Not staff"}]},
             {"action":"for-each","source":"emails","wrapValues":true,"instructions":[
                {"source":"value","destination":"profile","name":"std:attribute:email","multivalue":true}]}]
            """#
        try h.run(
            control(instructions),
            [
                #"{"name":{"f":"Ann","l":"Lee"},"staff":0,"emails":["a@x.org","b@x.org"]}"#,
                #"{"name":{"l":"Roe"},"staff":""}"#
            ])
        #expect(h.log == ["Not staff (record 1)"])
        let staff = h.objects(ofType: "std:type:person:staff")
        #expect(staff.count == 1)
        #expect(staff[0].values.filter { $0.attribute == "std:attribute:email" }.count == 2)
        #expect(h.objects(ofType: "std:type:person").count == 1)
    }

    @Test func dataTypes() throws {
        var h = EngineHarness()
        let models = ModelRegistry(schema: StandardSchema.make())
        #expect(models["TYPE:std:type:project"] != nil)
        let instructions = #"""
            [{"action":"new","destination":"object"},
             {"source":"t","destination":"object","name":"dc:attribute:title"},
             {"source":"d","destination":"object","name":"dc:attribute:date","dateFormat":"dd/MM/yyyy HH:mm"},
             {"source":"u","destination":"object","name":"std:attribute:url"},
             {"source":"n","destination":"object","name":"std:attribute:notes"}]
            """#
        try h.run(
            control(model: "TYPE:std:type:project", instructions),
            [
                #"{"t":42,"d":"10/02/2018 13:05","u":"https://x.org","n":"Para one\n\nTwo"}"#,
                #"{"t":"Second","d":"2018-02-10","u":"www.example.org"}"#
            ])
        #expect(
            h.log == [
                "Invalid date value for input field d: 2018-02-10 (record 1)",
                "Invalid URL for input field u: www.example.org (record 1)"
            ])
        let projects = h.objects(ofType: "std:type:project")
        #expect(projects.count == 2)
        #expect(projects[0].values.first == ObjectValue(attribute: "dc:attribute:title", value: .text(.text, "42")))
        #expect(
            projects[0].values.contains(
                ObjectValue(
                    attribute: "dc:attribute:date",
                    value: .datetime(seconds: 1_518_267_900, milliseconds: 0, dateOnly: false))))
    }

    @Test func datetimeWithoutFormatIsAPreparationError() throws {
        var h = EngineHarness()
        try h.run(
            control(
                model: "TYPE:std:type:project",
                #"""
                [{"action":"new","destination":"object"},
                 {"source":"d","destination":"object","name":"dc:attribute:date"},
                 {"source":"t","destination":"object","name":"dc:attribute:title"}]
                """#), [#"{"t":"P","d":"2018"}"#])
        #expect(
            h.log == [
                "Date format not specified for input field d",
                "Couldn't create value transformer for field object/dc:attribute:date"
            ])
        #expect(h.objects(ofType: "std:type:project").count == 1)
    }

    @Test func integersAreStrict() {
        let ok: [FilterValue] = [.json(.number(5)), .json(.string("0")), .json(.string("-12"))]
        let bad: [FilterValue] = [
            .json(.string("007")), .json(.string("+5")), .json(.string(" 5")), .json(.string("5.0")),
            .json(.number(4.2)), .json(.string("-0")), .json(.bool(true))
        ]
        #expect(ok.map(DataTypeConverters.integerValue) == [5, 0, -12])
        #expect(bad.allSatisfy { DataTypeConverters.integerValue($0) == nil })
    }

    @Test func preparationErrorsHaveNoSuffixAndDropTheInstruction() throws {
        var h = EngineHarness()
        try h.run(
            control(
                #"""
                [{"action":"new","destination":"profile"},
                 {"source":"a","destination":"nowhere","name":"x"},
                 {"source":"a","destination":"profile","name":"std:attribute:nope"},
                 {"source":"a","destination":"profile","name":"dc:attribute:date"},
                 {"source":"a","destination":"profile","name":"std:attribute:email","qualifier":"x:q"},
                 {"source":"a","destination":"profile","name":"dc:attribute:title"}]
                """#), [#"{"a":{"last":"X"}}"#])
        #expect(
            h.log == [
                "Unknown destination in field: nowhere",
                "Unknown name in field std:attribute:nope for destination profile",
                "Unknown name in field dc:attribute:date for destination profile",
                "Invalid qualifier 'x:q' in field profile/std:attribute:email"
            ])
        #expect(h.objects(ofType: "std:type:person").count == 1)
    }

    @Test func errorCapReplacesTheFiveHundredthMessage() throws {
        var h = EngineHarness()
        let records = Array(repeating: #"{"x":1}"#, count: 600)
        try h.run(control(#"[{"action":"log-error","message":"bad"}]"#), records)
        #expect(h.log.count == 500)
        #expect(h.log[497] == "No data set in required destination profile (record 248)")
        #expect(h.log[498] == "bad (record 249)")
        #expect(h.log[499] == ImportBatch.tooManyErrorsMessage)
    }

    @Test func abortRecordCommitsNothingButLaterInstructionsRun() throws {
        var h = EngineHarness()
        try h.run(
            control(
                #"""
                [{"action":"new","destination":"profile"},
                 {"source":"n","destination":"profile","name":"dc:attribute:title"},
                 {"action":"abort-record","message":""},
                 {"action":"log-error","message":null}]
                """#), [#"{"n":{"last":"A"}}"#])
        #expect(h.log == ["abort (record 0)", "error (record 0)"])
        #expect(h.repository.objects.isEmpty)
    }
}
