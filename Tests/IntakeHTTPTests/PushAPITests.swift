import Foundation
import IntakeApp
import IntakeCore
import IntakeRunner
import IntakeStore
import Testing

@testable import IntakeHTTP

/// Push APIs (docs/push-apis.md) over real HTTP: the original's exact answers in JSON and XML for
/// success, a record that fails, an exception, an unknown, a disabled API, GET and a key that may
/// not push; the call recorded as a batch; the body limit; calls to one API one at a time.
@Suite struct PushAPITests {
    static let control = """
        {"dataImportControlFileVersion": 0, "model": "haplo:person",
         "files": {"DEFAULT": {"read": "json", "singleRecord": true}},
         "instructions": [
            {"source": "username", "destination": "load:by-ref", "name": "ref", "filters": ["haplo:username-to-ref"]},
            {"action": "load", "destination": "profile", "using": "load:by-ref", "otherwise": [{"action": "new", "destination": "profile"}]},
            {"action": "set-value", "destination": "profile", "name": "dc:attribute:type", "value": "std:type:person:staff"},
            {"source": "first", "destination": "value:person-name", "name": "first"},
            {"source": "last", "destination": "value:person-name", "name": "last"},
            {"action": "field-structured", "structured": "value:person-name", "destination": "profile", "name": "dc:attribute:title"},
            {"source": "username", "destination": "profile", "name": "std:attribute:username"},
            {"source": "email", "destination": "profile", "name": "std:attribute:email"}
         ]}
        """

    private static func service(_ server: TestServer) -> ImportService {
        ImportService(environment: ImportEnvironment(store: server.store, blobs: server.blobs, models: ModelRegistry(schema: StandardSchema.make())))
    }

    private static func define(
        _ server: TestServer, _ name: String, response: PushResponseFormat = .json, enabled: Bool = true, bodyLimit: Int? = nil,
        control: String = PushAPITests.control
    ) async throws {
        let service = service(server)
        let upload = try server.blobs.makeUpload()
        try Array(control.utf8).withUnsafeBytes { try upload.write($0) }
        _ = try await service.createPushAPI(
            name: name, description: "test", enabled: enabled, response: response, control: .upload(upload), bodyLimit: bodyLimit, by: "test")
    }

    private static func push(_ server: TestServer, _ name: String, _ body: String, key: String? = nil) async throws -> Curl.Result {
        try await Curl.run(
            ["-X", "POST", "--data-binary", body, "--user", "haplo:\(key ?? server.apiKey)", "\(server.base)/api/push-data/\(name)"])
    }

    private static func people(_ server: TestServer) async throws -> [ObjectRecord] {
        try await server.store.objects(types: ["std:type:person:staff"], title: nil, after: nil, limit: 100)
    }

    private static func key(_ server: TestServer, scope: APIScope) async throws -> String {
        let key = APIKeyHashing.newKey()
        _ = try await server.store.createAPIKey(name: "scoped-\(scope.rawValue)", scope: scope, hash: APIKeyHashing.hash(key), now: Date())
        return key
    }

    @Test func answersAsTheOriginalInJSON() async throws {
        try await TestServer.start().scoped { server in
            try await Self.define(server, "staff")
            let created = try await Self.push(server, "staff", #"{"username": "ada", "first": "Ada", "last": "Lovelace", "email": "ada@example.ac.uk"}"#)
            #expect(created.status == 200)
            let ref = try #require(try await Self.people(server).first?.ref)
            #expect(
                created.body == """
                    {
                        "result": "success",
                        "applied": 1,
                        "failures": 0,
                        "errorCount": 0,
                        "errors": [],
                        "actions": [
                            {
                                "changed": [
                                    {
                                        "kind": "object:save",
                                        "destination": "profile",
                                        "ref": "\(ref.text)",
                                        "new": true
                                    }
                                ],
                                "record": "record 0"
                            }
                        ]
                    }
                    """)
            #expect(created.headers.lowercased().contains("content-type: application/json"))

            // The same record again saves nothing: applied, with no change.
            let again = try await Self.push(server, "staff", #"{"username": "ada", "first": "Ada", "last": "Lovelace", "email": "ada@example.ac.uk"}"#)
            #expect(again.status == 200)
            #expect(again.body.contains(#""changed": [],"#))

            // A record that cannot be applied: "failure", 400, the record's error.
            // (A person needs a name: the title is not set.)
            let failed = try await Self.push(server, "staff", #"{"username": "bob"}"#)
            #expect(failed.status == 400)
            let answer = try JSONParser.parse(failed.body)
            #expect(answer["result"] == .string("failure"))
            #expect(answer["applied"] == .number(0) && answer["failures"] == .number(1) && answer["errorCount"] == .number(2))
            #expect(answer["errors"]?.arrayValue?.first == .string("dc:attribute:title is not set in object profile (record 0)"))
            #expect(answer["actions"]?.arrayValue?.first?["changed"] == .array([]))

            // A body the control file cannot read: "error", the exception said as the original said it.
            let broken = try await Self.push(server, "staff", #"{"username": "#)
            #expect(broken.status == 400)
            let exception = try JSONParser.parse(broken.body)
            #expect(exception["result"] == .string("error"))
            #expect(exception["errorCount"] == .number(1))
            let message = exception["errors"]?.arrayValue?.first?.stringValue ?? ""
            #expect(message.hasPrefix("Exception when processing: JSON syntax error in body"), "\(message)")

            // Each call is a batch: comment "push NAME", the body its file "body", results as any batch's.
            let batches = try await server.store.batches(state: nil, limit: 10, offset: 0)
            #expect(batches.count == 4)
            #expect(batches.allSatisfy { $0.comment == "push staff" && $0.files.map(\.name) == ["body"] })
            #expect(Set(batches.map(\.state)) == [.complete, .error])
        }
    }

    @Test func answersAsTheOriginalInXML() async throws {
        try await TestServer.start().scoped { server in
            try await Self.define(server, "staff-xml", response: .xml)
            let created = try await Self.push(server, "staff-xml", #"{"username": "ada", "first": "Ada", "last": "L", "email": "ada@example.ac.uk"}"#)
            #expect(created.status == 200)
            let ref = try #require(try await Self.people(server).first?.ref)
            #expect(
                created.body == """
                    <?xml version="1.0" encoding="UTF-8" standalone="no"?>
                    <response result="success" applied="1" failures="0" errorCount="0"><errors/><actions><record identifier="record 0"><changed kind="object:save" destination="profile" ref="\(ref.text)" new="true"/></record></actions></response>

                    """)
            #expect(created.headers.lowercased().contains("content-type: application/xml"))
            let failed = try await Self.push(server, "staff-xml", #"{"username": "bob"}"#)
            #expect(failed.status == 400)
            #expect(
                failed.body.contains(
                    #"<response result="failure" applied="0" failures="1" errorCount="2"><errors><error>dc:attribute:title is not set in object profile (record 0)</error>"#
                ))
            #expect(failed.body.contains(#"<actions><record identifier="record 0"/></actions>"#))
        }
    }

    @Test func xmlEscapesMarkupAndRemovesWhatXMLCannotHold() {
        var outcome = PushOutcome.refused("a <b> & \"c\" 'd'\u{01}\u{1F}\te")
        outcome.actions = [PushOutcome.Action(record: "r<1>", changed: [])]
        #expect(
            PushResponse.xml(outcome).hasSuffix(
                #"<errors><error>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;\#te</error></errors><actions><record identifier="r&lt;1&gt;"/></actions></response>"#
                    + "\n"))
        #expect(PushResponse.string("q\"\\\u{08}\u{0C}\n\r\t\u{01}é/") == #""q\"\\\b\f\n\r\t\u0001é/""#)
    }

    @Test func refusalsInTheOriginalsWords() async throws {
        try await TestServer.start().scoped { server in
            try await Self.define(server, "off", response: .xml, enabled: false)
            let unknown = try await Self.push(server, "nope", "{}")
            #expect(unknown.status == 400)
            #expect(
                unknown.body == """
                    {
                        "result": "error",
                        "applied": 0,
                        "failures": 0,
                        "errorCount": 1,
                        "errors": [
                            "API not defined: nope"
                        ],
                        "actions": []
                    }
                    """)
            let disabled = try await Self.push(server, "off", "{}")
            #expect(disabled.status == 400)
            #expect(
                disabled.body.contains(
                    #"<response result="error" applied="0" failures="0" errorCount="1"><errors><error>API is disabled: off</error></errors><actions/></response>"#
                ))

            let get = try await Curl.run(["\(server.base)/api/push-data/off"])
            #expect(get.status == 400)
            #expect(
                get.body == """
                    {
                        "result": "error",
                        "applied": 0,
                        "failures": 0,
                        "errorCount": 1,
                        "errors": [
                            "Only POST requests supported for push data REST APIs."
                        ]
                    }
                    """)

            // A key that may not push: the original's "not authorised", 403, whatever the API's format.
            let batchKey = try await Self.key(server, scope: .batch)
            let refused = try await Self.push(server, "off", "{}", key: batchKey)
            #expect(refused.status == 403)
            #expect(refused.body.contains(#""result": "not authorised","#) && refused.body.contains(#""errors": [],"#))
            // No live key at all: the 401 of every endpoint, which says nothing about the APIs.
            let anonymous = try await Curl.run(["-X", "POST", "-d", "{}", "\(server.base)/api/push-data/off"])
            #expect(anonymous.status == 401)
            // A push key pushes and does nothing else.
            let pushKey = try await Self.key(server, scope: .push)
            #expect(try await Self.push(server, "nope", "{}", key: pushKey).status == 400)
            #expect(try await BatchClient(server, key: pushKey).get("/api/v1/schema").status == 403)
            #expect(try await server.store.batches(state: nil, limit: 10, offset: 0).isEmpty)
        }
    }

    @Test func aBodyOverTheLimitIsRefusedAndLeavesNothing() async throws {
        try await TestServer.start().scoped { server in
            try await Self.define(server, "small", bodyLimit: 100)
            let body = #"{"username": "ada", "first": "\#(String(repeating: "a", count: 200))"}"#
            let refused = try await Self.push(server, "small", body)
            #expect(refused.status == 413)
            #expect(refused.body == "Request body too large: push API small takes at most 100 bytes")
            #expect(try await server.store.batches(state: nil, limit: 10, offset: 0).isEmpty)
        }
    }

    @Test func concurrentCallsToOneAPIAllLandOnOnePerson() async throws {
        try await TestServer.start().scoped { server in
            try await Self.define(server, "staff")
            // Twelve updates of one person at once: every call is answered, and they update one
            // object in turn (`SerialLanesTests` shows the calls of one API run one at a time).
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<12 {
                    group.addTask {
                        let answer = try await Self.push(server, "staff", #"{"username": "ada", "first": "Ada", "last": "L\#(i)"}"#)
                        #expect(answer.status == 200, "\(answer.body)")
                    }
                }
                try await group.waitForAll()
            }
            let batches = try await server.store.batches(state: nil, limit: 20, offset: 0)
            #expect(batches.count == 12)
            let ref = try #require(try await Self.people(server).first?.ref)
            // One object: no two calls both found nobody and created one each.
            #expect(try await Self.people(server).count == 1)
            #expect(try await server.store.history(of: ref).count == 12)
        }
    }

    @Test func definitionsAreCheckedAndAudited() async throws {
        try await TestServer.start().scoped { server in
            await #expect(throws: PushAPIError.invalidName("Staff")) { try await Self.define(server, "Staff") }
            await #expect(throws: PushAPIError.invalidBodyLimit(0)) { try await Self.define(server, "a", bodyLimit: 0) }
            await #expect(throws: PushAPIError.noFileSpecification) {
                try await Self.define(server, "b", control: Self.control.replacingOccurrences(of: "\"DEFAULT\"", with: "\"people\""))
            }
            await #expect(throws: BatchError.self) { try await Self.define(server, "c", control: "{}") }
            try await Self.define(server, "staff")
            await #expect(throws: PushAPIError.exists("staff")) { try await Self.define(server, "staff") }
            let service = Self.service(server)
            let disabled = try await service.updatePushAPI(name: "staff", enabled: false, response: .xml, bodyLimit: 2048, by: "test")
            #expect(!disabled.enabled && disabled.response == .xml && disabled.bodyLimit == 2048 && disabled.description == "test")
            #expect(try await service.pushAPIs().map(\.name) == ["staff"])
            try await service.removePushAPI(name: "staff", by: "test")
            await #expect(throws: PushAPIError.notFound("staff")) { try await service.removePushAPI(name: "staff", by: "test") }
            let audit = try await server.store.auditEntries(limit: 20).map(\.event)
            #expect(audit.contains("push API created") && audit.contains("push API updated") && audit.contains("push API removed"))
        }
    }
}

/// The admin UI's Push APIs pages: define with a pasted control file, refusals shown at their
/// fields, edit with a chosen control file, disable and enable from the list; values escaped.
@Suite struct PushAPIAdminTests {
    @Test func anAdminDefinesEditsAndDisablesAPushAPI() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            #expect(try await browser.get("/admin/push-apis").body.contains("There are no push APIs."))

            let badName = try await browser.post(
                "/admin/push-apis", ["name": "Staff", "description": "x", "response": "json", "bodyLimit": "1000", "controlJSON": PushAPITests.control])
            #expect(badName.status == 400)
            #expect(
                badName.body.contains("Invalid push API name: Staff (use 1 to 64 of a-z, 0-9 and &#39;-&#39;)")
                    || badName.body.contains("Invalid push API name: Staff"))
            let noControl = try await browser.post("/admin/push-apis", ["name": "staff", "description": "x", "response": "json", "bodyLimit": "1000"])
            #expect(noControl.body.contains("Choose one of the uploaded control files, or paste one"))
            let invalid = try await browser.post(
                "/admin/push-apis", ["name": "staff", "description": "x", "response": "json", "bodyLimit": "1000", "controlJSON": "{\"x\": 1}"])
            #expect(invalid.status == 400 && invalid.body.contains("Invalid control file"))
            #expect(try await browser.server.store.pushAPIs().isEmpty)

            let created = try await browser.post(
                "/admin/push-apis",
                ["name": "staff", "description": "HR <updates>", "response": "xml", "bodyLimit": "2048", "enabled": "on", "controlJSON": PushAPITests.control])
            #expect(created.status == 303)
            let api = try #require(try await browser.server.store.pushAPI(named: "staff"))
            #expect(api.response == .xml && api.bodyLimit == 2048 && api.enabled && api.description == "HR <updates>")
            let list = try await browser.get("/admin/push-apis").body
            #expect(list.contains("POST /api/push-data/staff") && list.contains("HR &lt;updates&gt;") && !list.contains("HR <updates>"))

            // Edit: the control file chosen from the uploaded ones, the format changed.
            let edit = try await browser.get("/admin/push-apis/staff").body
            #expect(edit.contains("Save push API") && edit.contains(api.control))
            let saved = try await browser.post(
                "/admin/push-apis/staff", ["description": "changed", "response": "json", "bodyLimit": "4096", "enabled": "on", "control": api.control])
            #expect(saved.status == 303)
            let changed = try #require(try await browser.server.store.pushAPI(named: "staff"))
            #expect(changed.response == .json && changed.bodyLimit == 4096 && changed.description == "changed" && changed.control == api.control)

            #expect(try await browser.post("/admin/push-apis/staff/disable").status == 303)
            #expect(try await browser.server.store.pushAPI(named: "staff")?.enabled == false)
            #expect(try await browser.get("/admin/push-apis").body.contains(">Enable<"))
            #expect(try await browser.post("/admin/push-apis/staff/enable").status == 303)
            #expect(try await browser.server.store.pushAPI(named: "staff")?.enabled == true)
            #expect(try await browser.get("/admin/push-apis/nope").status == 404)
            let audit = try await browser.server.store.auditEntries(limit: 20)
            #expect(audit.contains { $0.event == "push API created" && $0.detail.contains("by ops") })
        }
    }
}
