import Crypto
import Foundation
import IntakeAdmin
import IntakeApp
import IntakeCore
import IntakeStore
import Testing

@Suite struct AdminUITests {
    let people = Fixtures.examples.deletingLastPathComponent().appendingPathComponent("Tests/browser/fixtures")

    @Test func pagesNeedASignedInAdminAndAPostWithoutOneChangesNothing() async throws {
        try await TestServer.start().scoped { server in
            let browser = AdminBrowser(server)
            let page = try await browser.get("/admin/batches?state=ready")
            #expect(page.status == 303)
            #expect(page.header("Location") == "/admin/login?next=/admin/batches%3Fstate%3Dready", "the whole path and query, encoded")
            let before = try await server.store.apiKeys().count
            let post = try await browser.post("/admin/api-keys/new", ["name": "sneaky"], csrf: false)
            #expect(post.status == 303)
            #expect(post.header("Location")?.hasPrefix("/admin/login?next=") == true)
            #expect(try await server.store.apiKeys().count == before)
            // An API key never opens admin pages.
            let withKey = try await Curl.run(["--user", "haplo:\(server.apiKey)", server.base + "/admin"])
            #expect(withKey.status == 303)
        }
    }

    @Test func signInRefusesWrongPasswordsLocksAfterFiveAndAudits() async throws {
        try await TestServer.start().scoped { server in
            try await AdminAccounts(store: server.store).create(name: "ops", password: AdminBrowser.password)
            let browser = AdminBrowser(server)
            let wrong = try await browser.post("/admin/login", ["username": "ops", "password": "wrong"], csrf: false)
            #expect(wrong.status == 401)
            #expect(wrong.body.contains("Incorrect username or password."))
            #expect(wrong.body.contains(#"value="ops""#))
            let unknown = try await browser.post("/admin/login", ["username": "nobody", "password": "wrong"], csrf: false)
            #expect(unknown.status == 401 && unknown.body.contains("Incorrect username or password."))
            for _ in 0..<4 { _ = try await browser.post("/admin/login", ["username": "ops", "password": "wrong"], csrf: false) }
            let locked = try await browser.post("/admin/login", ["username": "ops", "password": AdminBrowser.password], csrf: false)
            #expect(locked.status == 401, "the sixth attempt within 15 minutes must be refused, right password or not")
            #expect(locked.body.contains("Incorrect username or password."))
            // Nobody signed in can make the server store a large body: the sign-in form is capped.
            let big = try Fixtures.write(String(repeating: "x", count: 100_000))
            let stuffed = try await Curl.run(["-F", "username=ops", "-F", "file_0=@\(big.path)", "-F", "file=@\(big.path)", server.base + "/admin/login"])
            #expect(stuffed.status == 413)
            let audit = try await server.store.auditEntries(limit: 20)
            #expect(audit.filter { $0.event == "sign-in failed" }.count == 7)
            #expect(audit.contains { $0.detail == "ops from 127.0.0.1 (locked)" })
        }
    }

    @Test func signInSetsAStrictHttpOnlyCookieAndEveryPageHasTheSecurityHeaders() async throws {
        try await TestServer.start().scoped { server in
            try await AdminAccounts(store: server.store).create(name: "ops", password: AdminBrowser.password)
            let browser = AdminBrowser(server)
            let response = try await browser.post(
                "/admin/login", ["username": "ops", "password": AdminBrowser.password, "next": "https://evil.example/"], csrf: false)
            #expect(response.status == 303)
            #expect(response.header("Location") == "/admin", "a foreign next must not be followed")
            let cookie = try #require(response.header("Set-Cookie"))
            #expect(cookie.hasPrefix("intake_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/") && !cookie.contains("Secure") && !cookie.contains("Domain"))
            let token = try #require(browser.sessionToken)
            #expect(token.count >= 40)
            let stored = try await server.store.adminSession(idHash: SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined())
            #expect(stored?.account == "ops", "the store keeps the token's hash, not the token")
            for path in ["/admin", "/admin/login", "/admin/nowhere", "/admin/static/admin.css"] {
                let page = try await browser.get(path)
                let policy = try #require(page.header("Content-Security-Policy"), "\(path)")
                #expect(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"))
                #expect(page.header("X-Content-Type-Options") == "nosniff")
                #expect(page.header("Referrer-Policy") == "same-origin")
            }
            #expect(try await browser.get("/admin").header("Cache-Control") == "no-store")
            #expect(try await browser.get("/admin/nowhere").status == 404)
        }
    }

    @Test func aFormWithoutItsTokenOrFromAnotherOriginIsRefusedAndChangesNothing() async throws {
        try await AdminBrowser.signedIn().scoped { browser in
            let before = try await browser.server.store.apiKeys().count
            let missing = try await browser.post("/admin/api-keys/new", ["name": "forged"], csrf: false)
            #expect(missing.status == 403)
            #expect(missing.body.contains("This form has expired. Go back, reload the page and try again."))
            let wrong = try await browser.post("/admin/api-keys/new", ["csrf": "not-the-token", "name": "forged"], csrf: false)
            #expect(wrong.status == 403)
            let foreign = try await browser.post("/admin/api-keys/new", ["name": "forged"], headers: ["Origin: https://evil.example"])
            #expect(foreign.status == 403)
            #expect(try await browser.server.store.apiKeys().count == before)
            let fine = try await browser.post("/admin/api-keys/new", ["name": "real"], headers: ["Origin: \(try browser.live.base)"])
            #expect(fine.status == 303)
        }
    }

    @Test func controlFileUploadShowsTheExactMessagesAndReusesARecord() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let empty = try await browser.post("/admin/control-files/new", ["comment": ""], files: [])
            #expect(empty.status == 400)
            #expect(empty.body.components(separatedBy: ">Required field<").count - 1 >= 2)
            let notJSON = try await browser.post(
                "/admin/control-files/new", ["comment": "Test"], files: [("file", people.appendingPathComponent("not-json.json"))])
            #expect(notJSON.status == 400 && notJSON.body.contains("Not a valid JSON file") && notJSON.body.contains(#"value="Test""#))
            let invalid = try await browser.post(
                "/admin/control-files/new", ["comment": "Test"], files: [("file", people.appendingPathComponent("bad-control.json"))])
            #expect(
                invalid.body.contains("Not a valid control file: Bad version of control file, should be 0, Model not implemented: nope:model"))
            #expect(try await browser.server.store.controlFileCount() == 0)
            let control = people.appendingPathComponent("people-control.json")
            let created = try await browser.post("/admin/control-files/new", ["comment": "People from HR"], files: [("file", control)])
            #expect(created.status == 303)
            let location = try #require(created.header("Location"))
            let page = try await browser.get(location)
            #expect(page.body.contains("Control file uploaded."))
            #expect(page.body.contains(SHA256.hash(data: try Data(contentsOf: control)).map { String(format: "%02x", $0) }.joined()))
            let again = try await browser.post("/admin/control-files/new", ["comment": "People from HR"], files: [("file", control)])
            #expect(again.header("Location") == location)
            #expect(try await browser.get(location).body.contains("This control file was already uploaded with this comment."))
            let download = try await browser.get(location + "/download")
            #expect(download.body == (try String(contentsOf: control, encoding: .utf8)))
            #expect(download.header("Content-Disposition")?.hasPrefix("attachment; filename=\"control-") == true)
        }
    }

    /// Imports the walkthrough's staff and students through the API; returns the batch identifier.
    func importPeople(_ client: BatchClient) async throws -> String {
        let id = try await client.prepareBatch(
            control: people.appendingPathComponent("people-control.json"),
            files: [("staff", people.appendingPathComponent("staff.json")), ("students", people.appendingPathComponent("students.tsv"))])
        _ = try await client.schedule(batch: id)
        _ = try await client.waitForBatch(id)
        return id
    }

    /// Uploads the people control file and returns its record's page path.
    func uploadPeopleControl(_ browser: AdminBrowser) async throws -> String {
        let created = try await browser.post(
            "/admin/control-files/new", ["comment": "People"], files: [("file", people.appendingPathComponent("people-control.json"))])
        return try #require(created.header("Location"))
    }

    @Test func newBatchChecksNamesKeepsReceivedFilesAndCreatesAReadyBatch() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let control = try await uploadPeopleControl(browser)
            let form = try await browser.get(control + "/new-batch")
            #expect(form.body.contains(#"name="name_0" type="text" list="file-names" value="staff""#))
            let noFile = try await browser.post(control + "/new-batch", ["rows": "3", "comment": "x", "name_0": "staff"], files: [])
            #expect(noFile.status == 400 && noFile.body.contains("At least one file is required"))
            let staff = people.appendingPathComponent("staff.json"), students = people.appendingPathComponent("students.tsv")
            let refused = try await browser.post(
                control + "/new-batch", ["rows": "3", "comment": "", "name_0": "staff", "name_1": "staff", "name_2": "other"],
                files: [("file_0", staff), ("file_1", students), ("file_2", staff)])
            #expect(refused.status == 400)
            #expect(refused.body.contains("Duplicate file names: staff"))
            #expect(refused.body.contains("No file specification for other in control file (and no DEFAULT entry)"))
            #expect(refused.body.contains("Required field"))
            #expect(try await browser.server.store.batchCount(state: nil) == 0, "nothing is created unless every check passes")
            let kept = refused.body.matches(of: /name="kept_(\d)" value="([^"]+)"/).map { (String($0.1), String($0.2)) }
            #expect(kept.count == 3)
            let created = try await browser.post(
                control + "/new-batch",
                [
                    "rows": "3", "comment": "HR test", "name_0": "staff", "kept_0": kept[0].1, "name_1": "students", "kept_1": kept[1].1,
                    "name_2": "other", "kept_2": kept[2].1, "remove_2": "1"
                ], files: [])
            #expect(created.status == 303)
            let id = try #require(created.header("Location")?.split(separator: "/").last.map(String.init))
            let batch = try #require(try await browser.server.store.batch(BatchID(rawValue: id)))
            #expect(batch.state == .ready && batch.comment == "HR test")
            #expect(batch.files.map(\.name) == ["staff", "students"] && batch.files.map(\.filename) == ["staff.json", "students.tsv"])
            let page = try await browser.get("/admin/batches/\(id)")
            #expect(page.body.contains("Batch created. Run a dry run first.") && page.body.contains("Ready to run. Always do a dry run first."))
            let file = try await browser.get("/admin/batches/\(id)/files/students")
            #expect(file.body == (try String(contentsOf: students, encoding: .utf8)))
            #expect(file.header("Content-Disposition") == "attachment; filename=\"students.tsv\"")
        }
    }

    @Test func theFilesOfAReadyBatchCanBeReplacedRemovedAndAddedAndOnlyThen() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let control = try await uploadPeopleControl(browser)
            let staff = people.appendingPathComponent("staff.json"), students = people.appendingPathComponent("students.tsv")
            let created = try await browser.post(
                control + "/new-batch", ["rows": "2", "comment": "Edit me", "name_0": "staff", "name_1": "students"],
                files: [("file_0", staff), ("file_1", students)])
            let id = try #require(created.header("Location")?.split(separator: "/").last.map(String.init))
            let form = try await browser.get("/admin/batches/\(id)/files")
            #expect(form.status == 200 && form.body.contains("staff.json") && form.body.contains("students.tsv"))
            let kept = form.body.matches(of: /name="kept_(\d)" value="([^"]+)"/).map { String($0.2) }
            #expect(kept.count == 2)
            let other = try Fixtures.write("first\tlast\temail\nAnn\tOther\tann@example.ac.uk\n", name: "more.tsv")
            let saved = try await browser.post(
                "/admin/batches/\(id)/files",
                ["rows": "3", "name_0": "staff", "kept_0": kept[0], "remove_0": "1", "name_1": "students", "kept_1": kept[1], "name_2": "extra"],
                files: [("file_1", other), ("file_2", staff)])
            #expect(saved.status == 400, "extra has no file specification")
            #expect(saved.body.contains("No file specification for extra in control file (and no DEFAULT entry)"))
            let again = saved.body.matches(of: /name="kept_(\d)" value="([^"]+)"/).map { (Int(String($0.1))!, String($0.2)) }
            let fixed = try await browser.post(
                "/admin/batches/\(id)/files",
                [
                    "rows": "3", "name_1": "students", "kept_1": try #require(again.first { $0.0 == 1 }?.1), "name_2": "staff",
                    "kept_2": try #require(again.first { $0.0 == 2 }?.1)
                ])
            #expect(fixed.status == 303)
            let batch = try #require(try await browser.server.store.batch(BatchID(rawValue: id)))
            #expect(batch.files.map(\.name) == ["students", "staff"] && batch.files.map(\.filename) == ["more.tsv", "staff.json"])
            #expect(try await browser.post("/admin/batches/\(id)/dry-run").status == 303)
            let late = try await browser.get("/admin/batches/\(id)/files")
            #expect(late.status == 409 && late.body.contains("Files can only be changed before the batch is scheduled."))
        }
    }

    @Test func stateRulesAnswerNotPossibleAndUnknownThingsNotFound() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let client = BatchClient(browser.server)
            let digest = try await client.uploadControl(people.appendingPathComponent("people-control.json")).body
            let uploading = try await client.createBatch(control: digest, comment: "From script").body
            for action in ["dry-run", "import"] {
                let page = try await browser.get("/admin/batches/\(uploading)/\(action)")
                #expect(page.status == 409 && page.body.contains("Batch is in the wrong state."), "\(action)")
                let post = try await browser.post("/admin/batches/\(uploading)/\(action)")
                #expect(post.status == 409)
            }
            let cancel = try await browser.post("/admin/batches/\(uploading)/cancel")
            #expect(cancel.status == 409 && cancel.body.contains("Only a scheduled, running or held batch can be cancelled."))
            #expect(try await browser.server.store.batch(BatchID(rawValue: uploading))?.state == .uploading)
            let copied = try await browser.post("/admin/batches/\(uploading)/copy")
            #expect(copied.status == 303)
            let copy = try #require(copied.header("Location")?.split(separator: "/").last.map(String.init))
            let copyBatch = try await browser.server.store.batch(BatchID(rawValue: copy))
            #expect(copyBatch?.state == .ready && copyBatch?.comment == "From script (copy)" && copyBatch?.copiedFrom?.rawValue == uploading)
            let scheduled = try await browser.post("/admin/batches/\(copy)/dry-run")
            #expect(scheduled.status == 303)
            #expect(try await browser.get("/admin/batches/\(copy)").body.contains("Dry run scheduled."))
            let twice = try await browser.post("/admin/batches/\(copy)/import")
            #expect(twice.status == 409, "a second tab's submission must not schedule again")
            for path in ["/admin/batches/nope", "/admin/control-files/999", "/admin/models/nope:model", "/admin/objects/99999", "/admin/api-keys/77/revoke"] {
                let page = try await browser.get(path)
                #expect(page.status == 404 && page.body.contains("<h1>Not found</h1>"), "\(path)")
            }
        }
    }

    @Test func aNewKeyIsShownOnceAndARevokedKeyIsRefusedByTheAPI() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let taken = try await browser.post("/admin/api-keys/new", ["name": "test", "scope": "batch"])
            #expect(taken.status == 400 && taken.body.contains("An active key already has this name"))
            let empty = try await browser.post("/admin/api-keys/new", ["name": " ", "scope": "batch"])
            #expect(empty.status == 400 && empty.body.contains("Required field"))
            let created = try await browser.post("/admin/api-keys/new", ["name": "CI script", "scope": "batch"])
            let location = try #require(created.header("Location"))
            let shown = try await browser.get(location)
            #expect(shown.body.contains("This is the only time it can be displayed."))
            let key = try #require(shown.body.firstMatch(of: /id="created-key">([^<]+)</).map { String($0.1) })
            let again = try await browser.get(location)
            #expect(again.body.contains("This key can no longer be displayed.") && !again.body.contains(key))
            #expect(try await browser.getAsStranger("/api/v1/schema", headers: [AdminBrowser.basic(key)]).status == 403, "scope batch")
            let control = try await BatchClient(browser.server, key: key).uploadControl(people.appendingPathComponent("people-control.json"))
            #expect(control.status == 200)
            let id = try #require(location.split(separator: "/").dropLast().last.map(String.init))
            let revoked = try await browser.post("/admin/api-keys/\(id)/revoke")
            #expect(revoked.status == 303)
            #expect(try await browser.get("/admin/api-keys").body.contains("API key CI script revoked."))
            let refused = try await BatchClient(browser.server, key: key).uploadControl(people.appendingPathComponent("people-control.json"))
            #expect(refused.status == 401)
        }
    }

    @Test func anIdleSessionExpiresAndSigningOutEndsTheSession() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let hash = SHA256.hash(data: Data(try #require(browser.sessionToken).utf8)).map { String(format: "%02x", $0) }.joined()
            let session = try #require(try await browser.server.store.adminSession(idHash: hash))
            try await browser.server.store.updateAdminSession(idHash: hash, lastSeen: Date().addingTimeInterval(-61 * 60), data: session.data)
            let expired = try await browser.get("/admin/batches")
            #expect(expired.status == 303 && expired.header("Location") == "/admin/login?next=/admin/batches&expired=1")
            #expect(try await browser.get("/admin/login?next=/admin/batches&expired=1").body.contains("Your session has expired. Please sign in again."))
            // Sign in again, then out: the old cookie opens nothing afterwards.
            _ = try await browser.post("/admin/login", ["username": "ops", "password": AdminBrowser.password], csrf: false)
            let token = try #require(browser.sessionToken)
            #expect(try await browser.get("/admin").status == 200)
            let out = try await browser.post("/admin/logout")
            #expect(out.status == 303 && out.header("Location") == "/admin/login?signed-out=1")
            let reused = try await browser.getAsStranger("/admin", headers: ["Cookie: intake_session=\(token)"])
            #expect(reused.status == 303)
            #expect(try await browser.server.store.auditEntries(limit: 5).contains { $0.event == "sign-out" && $0.detail == "ops" })
        }
    }

    @Test func rollbackShowsAPreviewNeedsTheTickAndHappensOnce() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let client = BatchClient(browser.server)
            let id = try await importPeople(client)
            let preview = try await browser.get("/admin/batches/\(id)/rollback")
            #expect(preview.status == 200)
            #expect(preview.body.contains("Objects to delete (4)") && preview.body.contains("Objects to restore (0)"))
            #expect(preview.body.contains("Ada Lovelace"))
            #expect(try await browser.server.store.objects(types: nil, title: "Ada Lovelace", after: nil, limit: 5).count == 1, "a preview changes nothing")
            let unticked = try await browser.post("/admin/batches/\(id)/rollback")
            #expect(unticked.status == 400 && unticked.body.contains("Required field"))
            let done = try await browser.post("/admin/batches/\(id)/rollback", ["understood": "1"])
            #expect(done.status == 303)
            let page = try await browser.get("/admin/batches/\(id)")
            #expect(page.body.contains("Batch rolled back.") && page.body.contains("Rolled back at") && page.body.contains("by admin ops"))
            #expect(!page.body.contains("Roll back..."))
            #expect(try await browser.server.store.objects(types: nil, title: "Ada Lovelace", after: nil, limit: 5).isEmpty)
            let again = try await browser.get("/admin/batches/\(id)/rollback")
            // The API's refusal, word for word: the admin UI asks the same rule (BatchAction).
            #expect(again.status == 409 && again.body.contains("Batch \(id) is not in the &#39;complete&#39; state"), "\(again.body)")
        }
    }

    /// A finished batch with a failure offers its failed rows per file and as a table, and a retry
    /// that opens a ready batch of them; a batch without failures offers neither.
    @Test func failedRowsDownloadAndRetryFromTheBatchPage() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let client = BatchClient(browser.server)
            let id = try await importPeople(client)
            let page = try await browser.get("/admin/batches/\(id)")
            #expect(page.body.contains(#"<a href="/admin/batches/\#(id)/failed-rows?file=staff" download>staff</a>"#))
            #expect(page.body.contains("Retry failed records..."))
            let rows = try await browser.get("/admin/batches/\(id)/failed-rows?file=staff")
            let failed = try #require(try JSONParser.parse(rows.body).arrayValue)
            #expect(rows.status == 200 && failed.count == 1 && failed.first?["_errors"]?.arrayValue?.isEmpty == false, "\(rows.body)")
            let table = try await browser.get("/admin/batches/\(id)/failed-rows?format=csv")
            #expect(table.body.hasPrefix("record,file,line,key,errors\nrecord 1,staff,"), "\(table.body)")

            let confirm = try await browser.get("/admin/batches/\(id)/retry")
            #expect(confirm.status == 200 && confirm.body.contains("Make a new batch of the 1 failed records"))
            let made = try await browser.post("/admin/batches/\(id)/retry")
            #expect(made.status == 303)
            let retry = try #require(made.headers.firstMatch(of: /[Ll]ocation: \/admin\/batches\/([a-z0-9]+)/).map { String($0.1) })
            let retried = try #require(try await browser.server.store.batch(BatchID(rawValue: retry)))
            #expect(retried.state == .ready && retried.files.map(\.name) == ["staff"] && retried.comment.hasSuffix(" (retry of failed records)"))
            let retryPage = try await browser.get("/admin/batches/\(retry)")
            #expect(!retryPage.body.contains("Retry failed records...") && !retryPage.body.contains("id=\"failed-rows\""))
            let refused = try await browser.get("/admin/batches/\(retry)/retry")
            // A batch not yet run: refused as the API refuses it (BatchAction checks the state first).
            #expect(refused.status == 409 && refused.body.contains("Batch \(retry) has not finished"))
        }
    }

    @Test func listsFilterBatchesAndSearchControlFiles() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let client = BatchClient(browser.server)
            let digest = try await client.uploadControl(people.appendingPathComponent("people-control.json"), comment: "People 100%").body
            _ = try await client.createBatch(control: digest, comment: "Nightly HR")
            _ = try await client.createBatch(control: digest, comment: "Weekly students")
            let byComment = try await browser.get("/admin/batches?comment=nightly")
            #expect(byComment.body.contains("Batches: 1") && byComment.body.contains("Nightly HR") && !byComment.body.contains("Weekly students"))
            #expect(try await browser.get("/admin/batches?state=uploading&state=ready").body.contains("Batches: 2"))
            #expect(try await browser.get("/admin/batches?state=complete").body.contains("Batches: 0"))
            #expect(try await browser.get("/admin/batches?control=\(digest.prefix(8))").body.contains("Batches: 2"))
            #expect(try await browser.get("/admin/batches?control=0000").body.contains("Batches: 0"))
            let found = try await browser.get("/admin/control-files?q=100%25")
            #expect(found.body.contains("Control files: 1") && found.body.contains("People 100%"))
            #expect(try await browser.get("/admin/control-files?q=nothing").body.contains("Control files: 0"))
            let page = try await browser.get("/admin/control-files")
            #expect(page.body.contains(#"<a href="/admin/batches?control=\#(digest)">2</a>"#))
            let control = try #require(page.body.firstMatch(of: /href="(\/admin\/control-files\/\d+)"/).map { String($0.1) })
            #expect(try await browser.get(control).body.contains("API key test"), "uploaded by the API key")
        }
    }

    @Test func everyPageAnswersSignedInAndRedirectsSignedOutAndTheJSONHelpersMatchTheAPI() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let client = BatchClient(browser.server)
            let id = try await importPeople(client)
            let control = try #require(try await browser.server.store.controlFiles(limit: 1, offset: 0).first?.id)
            let ref = try #require(try await browser.server.store.objects(types: nil, title: "Ada Lovelace", after: nil, limit: 1).first?.ref.text)
            let key = try #require(try await browser.server.store.apiKeys().first?.id)
            let pages = [
                "/admin", "/admin/control-files", "/admin/control-files/new", "/admin/control-files/\(control)",
                "/admin/control-files/\(control)/new-batch", "/admin/batches", "/admin/batches/\(id)", "/admin/batches/\(id)/copy",
                "/admin/batches/\(id)/rollback", "/admin/batches/\(id)/results", "/admin/api-keys", "/admin/api-keys/new",
                "/admin/api-keys/\(key)/revoke", "/admin/models", "/admin/models/haplo%3Aperson", "/admin/models/haplo%3Aperson/generate",
                "/admin/models/TYPE%3Astd%3Atype%3Aperson", "/admin/schema", "/admin/filters", "/admin/docs", "/admin/docs/api",
                "/admin/docs/control-file", "/admin/docs/schema", "/admin/objects",
                "/admin/objects/\(ref)", "/admin/objects/\(ref)/history", "/admin/objects/\(ref)/versions/1", "/admin/objects?batch=\(id)",
                "/admin/account", "/admin/logout"
            ]
            let downloads = [
                "/admin/control-files/\(control)/download", "/admin/batches/\(id)/status.json", "/admin/batches/\(id)/log.txt",
                "/admin/batches/\(id)/files/staff", "/admin/batches/\(id)/results.ndjson", "/admin/batches/\(id)/results.csv"
            ]
            for path in pages + downloads {
                let page = try await browser.get(path)
                #expect(page.status == 200, "\(path)")
                if pages.contains(path) {
                    #expect(page.body.components(separatedBy: "<h1>").count == 2, "\(path) has one h1")
                    #expect(page.body.contains(##"<a class="skip" href="#main">Skip to content</a>"##), "\(path)")
                }
                let signedOut = try await browser.getAsStranger(path)
                #expect(signedOut.status == 303 && signedOut.header("Location")?.hasPrefix("/admin/login?next=") == true, "\(path) signed out")
            }
            for (mine, api) in [
                ("/admin/batches/\(id)/status.json", "/api/haplo-data-import-batch/status?batch=\(id)"),
                ("/admin/batches/\(id)/log.txt", "/api/haplo-data-import-batch/log?batch=\(id)"),
                ("/admin/batches/\(id)/results.ndjson", "/api/haplo-data-import-batch/results?batch=\(id)")
            ] {
                let (a, b) = (try await browser.get(mine).body, try await client.get(api).body)
                #expect(a == b && !a.isEmpty, "\(mine) differs from \(api)")
            }
            let log = try await browser.get("/admin/batches/\(id)/log.txt").body
            #expect(try await browser.get("/admin/batches/\(id)/log.txt?offset=10").body == String(log.utf8.dropFirst(10))!)
            let csv = try await browser.get("/admin/batches/\(id)/results.csv").body
            #expect(csv.hasPrefix("record,file,status,changes,errors\r\nrecord 0,staff,applied,object:save profile "))
            let written = try await browser.get("/admin/objects?batch=\(id)&type=std:type:person")
            #expect(written.body.components(separatedBy: "<tr><th scope=\"row\" data-label=\"Ref\">").count - 1 == 4)
            #expect(try await browser.get("/admin/objects?batch=nobatch").body.contains("No objects."))
            #expect(try await browser.get("/admin/objects/\(ref)/versions/2").status == 404)
            let failed = try await browser.get("/admin/batches/\(id)/results?status=failed")
            #expect(failed.body.contains("record 1") && !failed.body.contains("record 0<"))
            let created = try await browser.get("/admin/batches/\(id)/results?new=yes&destination=profile&file=students")
            #expect(created.body.contains(">record 3<") && created.body.contains(">record 4<") && !created.body.contains(">record 0<"))
            let filteredCSV = try await browser.get("/admin/batches/\(id)/results.csv?filtered=1&new=no")
            #expect(filteredCSV.body.split(separator: "\r\n").count == 2, "the header and the failed record")
        }
    }

    @Test func anAdminChangesTheirOwnPassword() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let wrong = try await browser.post("/admin/account", ["current": "not it", "new": "a new long password", "repeat": "a new long password"])
            #expect(wrong.status == 400 && wrong.body.contains("This is not your current password."))
            let differ = try await browser.post(
                "/admin/account", ["current": AdminBrowser.password, "new": "a new long password", "repeat": "another long password"])
            #expect(differ.status == 400 && differ.body.contains("The two new passwords differ."))
            let short = try await browser.post("/admin/account", ["current": AdminBrowser.password, "new": "short", "repeat": "short"])
            #expect(short.status == 400 && short.body.contains("At least 12 characters"))
            let changed = try await browser.post(
                "/admin/account", ["current": AdminBrowser.password, "new": "a new long password", "repeat": "a new long password"])
            #expect(changed.status == 303)
            #expect(try await browser.get("/admin/account").body.contains("Your password was changed."))
            #expect(try await AdminAccounts(store: browser.server.store).verify(name: "ops", password: "a new long password"))
            let schema = try await browser.get("/admin/schema")
            #expect(schema.status == 200 && schema.body.contains(#"<tr id="std:type:person">"#))
        }
    }

    @Test func aDisabledAccountIsSignedOutAndCannotSignIn() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            #expect(try await browser.get("/admin").status == 200)
            try await AdminAccounts(store: browser.server.store).setDisabled(name: "ops", true)
            #expect(try await browser.get("/admin").status == 303)
            let refused = try await browser.post("/admin/login", ["username": "ops", "password": AdminBrowser.password], csrf: false)
            #expect(refused.status == 401 && refused.body.contains("Incorrect username or password."))
            try await AdminAccounts(store: browser.server.store).setDisabled(name: "ops", false)
            let back = try await browser.post("/admin/login", ["username": "ops", "password": AdminBrowser.password], csrf: false)
            #expect(back.status == 303)
        }
    }

    @Test func theShippedDocumentsArePagesWithAnchorsAndLinksBetweenThem() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let root = Fixtures.examples.deletingLastPathComponent()
            for (slug, path) in [("api", "docs/api.md"), ("control-file", "docs/control-files.md"), ("schema", "docs/schema.md")] {
                let shipped = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
                let embedded = try #require(AdminDocs.documents.first { $0.slug == slug }).markdown
                #expect(embedded == shipped.trimmingCharacters(in: .newlines), "\(path) changed: run scripts/embed-admin-docs")
            }
            // The templates and static files are compiled in the same way (the binary must not need files
            // beside it).
            for (folder, embedded, suffix) in [("Templates", AdminAssets.templates, ".mustache"), ("Static", AdminAssets.staticFiles, "")] {
                let directory = root.appendingPathComponent("Sources/IntakeAdmin/\(folder)")
                // Templates sit in a folder per area; the file name is the key.
                let paths = try FileManager().subpathsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(suffix) && !$0.hasSuffix("/") }
                    .filter { path in (try? directory.appendingPathComponent(path).resourceValues(forKeys: [.isDirectoryKey]).isDirectory) != true }
                let names = paths.map { ($0 as NSString).lastPathComponent }
                #expect(Set(names.map { String($0.dropLast(suffix.count)) }) == Set(embedded.keys), "\(folder) changed: run scripts/embed-admin-docs")
                for (name, path) in zip(names, paths) {
                    let text = try String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8)
                    #expect(embedded[String(name.dropLast(suffix.count))] == text, "\(folder)/\(name) changed: run scripts/embed-admin-docs")
                }
            }
            let page = try await browser.get("/admin/docs/control-file")
            #expect(page.status == 200 && page.body.contains(#"<h3 id="data-types">Data types</h3>"#))
            #expect(page.body.contains(#"<h2 id="filters">Filters</h2>"#))
            #expect(page.body.contains(#"href="/admin/docs/schema"#), "links between the documents lead to their pages")
            #expect(page.body.components(separatedBy: "<h1").count == 2)
            #expect(try await browser.get("/admin/docs/nothing").status == 404)
        }
    }

    @Test func modelPagesGeneratorAndFilters() async throws {
        try await AdminBrowser.routedSignedIn { browser in
            let models = try await browser.get("/admin/models")
            #expect(models.body.contains(#"href="/admin/models/haplo%3Aperson">haplo:person (Person)"#))
            #expect(try await browser.get("/admin/models/haplo:person").status == 200, "raw colons are accepted too")
            let generated = try await browser.post(
                "/admin/models/haplo%3Aperson/generate", ["n.profile.std:attribute:email": "1", "n.profile.std:attribute:telephone": "1"])
            #expect(generated.status == 200)
            let text = try #require(generated.body.firstMatch(of: /<textarea id="generated-json"[^>]*>([^<]*)</).map { String($0.1) })
            let json = try JSONParser.parse(text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'"))
            let sources = (json["instructions"]?.arrayValue ?? []).compactMap { $0["source"]?.stringValue }
            #expect(sources == ["TODO-USERNAME", "TODO-EMAIL", "TODO-TELEPHONE"])
            #expect(json["instructions"]?.arrayValue?.last?["country"] == .string("GB"))
            let download = try await browser.post(
                "/admin/models/haplo%3Aperson/generate", ["n.profile.std:attribute:email": "1", "download": "1"])
            #expect(download.header("Content-Disposition") == "attachment; filename=\"control-haplo-person.json\"")
            #expect(try JSONParser.parse(download.body)["model"] == .string("haplo:person"))
            let filters = try await browser.get("/admin/filters")
            #expect(filters.body.contains("<code>haplo:username-to-ref</code>"))
            let mapping = try await browser.get("/admin/models/haplo%3Aperson/mapping?destination=profile&name=std:attribute:email")
            #expect(mapping.status == 400 && mapping.body.contains("Not a ref name"))
        }
    }
}
