import Foundation
import IntakeApp
import IntakeStore
import Testing

/// Admin roles: every POST route and every form page against every role. A role that may not gets
/// the 403 page and nothing changes; one that may gets past the check (whatever the handler then
/// says about the made-up ids). Pages show only the actions the role may take.
@Suite struct AdminRoleTests {
    static let adminPosts = [
        "/admin/api-keys/new", "/admin/api-keys/1/revoke", "/admin/webhooks", "/admin/webhooks/x/remove", "/admin/push-apis",
        "/admin/push-apis/x", "/admin/push-apis/x/enable", "/admin/push-apis/x/disable"
    ]
    static let operatorPosts =
        ["/admin/batches/x/files", "/admin/control-files/new", "/admin/control-files/1/new-batch"]
        + ["dry-run", "import", "copy", "cancel", "rollback", "approve", "retry"].map { "/admin/batches/x/\($0)" }
    static let everyonesPosts = ["/admin/account", "/admin/models/haplo:person/generate"]
    static let adminPages = ["/admin/api-keys/new", "/admin/api-keys/1/created", "/admin/api-keys/1/revoke", "/admin/webhooks/x/remove", "/admin/push-apis/x"]
    static let operatorPages =
        ["/admin/control-files/new", "/admin/control-files/1/new-batch", "/admin/batches/x/files"]
        + ["dry-run", "import", "copy", "cancel", "rollback", "approve", "retry"].map { "/admin/batches/x/\($0)" }
    static let everyonesPages = ["/admin", "/admin/api-keys", "/admin/webhooks", "/admin/push-apis", "/admin/batches", "/admin/control-files", "/admin/feeds"]

    /// A browser signed in as a new account of `role` on the server of `first`.
    static func signIn(_ role: AdminRole, on first: AdminBrowser) async throws -> AdminBrowser {
        try await AdminAccounts(store: first.server.store).create(name: role.rawValue, password: AdminBrowser.password, role: role)
        let browser = AdminBrowser(first.server)
        let response = try await browser.post("/admin/login", ["username": role.rawValue, "password": AdminBrowser.password, "next": "/admin"], csrf: false)
        #expect(response.status == 303)
        return browser
    }

    @Test func everyRouteAgainstEveryRole() async throws {
        try await AdminBrowser.routedSignedIn { admin in
            let browsers: [(AdminRole, AdminBrowser)] = [
                (.viewer, try await Self.signIn(.viewer, on: admin)), (.operator, try await Self.signIn(.operator, on: admin)), (.admin, admin)
            ]
            for (role, browser) in browsers {
                for (paths, needed) in [(Self.adminPosts, AdminRole.admin), (Self.operatorPosts, .operator), (Self.everyonesPosts, .viewer)] {
                    for path in paths {
                        let answer = try await browser.post(path, ["name": "x"])
                        if role.allows(needed) {
                            #expect(answer.status != 403, "\(role) POST \(path)")
                        } else {
                            #expect(answer.status == 403, "\(role) POST \(path): \(answer.status)")
                            #expect(answer.body.contains("it needs the \(needed.rawValue) role"), "\(role) POST \(path)")
                        }
                    }
                }
                for (paths, needed) in [(Self.adminPages, AdminRole.admin), (Self.operatorPages, .operator), (Self.everyonesPages, .viewer)] {
                    for path in paths {
                        let answer = try await browser.get(path)
                        #expect((answer.status == 403) == !role.allows(needed), "\(role) GET \(path): \(answer.status)")
                    }
                }
            }
            // Nothing a refused POST asked for happened.
            #expect(try await admin.server.store.webhooks().isEmpty)
            #expect(try await admin.server.store.pushAPIs().isEmpty)
            #expect(try await admin.server.store.apiKeys().map(\.name).sorted() == ["test", "x"], "only the admin made a key")

            // Pages offer only what the role may do.
            let viewer = browsers[0].1
            #expect(!(try await viewer.get("/admin/control-files").body.contains("Upload new control file...")))
            #expect(!(try await viewer.get("/admin/api-keys").body.contains("Create API key...")))
            #expect(!(try await browsers[1].1.get("/admin/api-keys").body.contains("Create API key...")))
            #expect(try await browsers[1].1.get("/admin/control-files").body.contains("Upload new control file..."))
            #expect(try await admin.get("/admin/api-keys").body.contains("Create API key..."))
            #expect(!(try await browsers[1].1.get("/admin/webhooks").body.contains("Add a webhook")))

            // A role changed applies from the account's next request.
            try await AdminAccounts(store: admin.server.store).setRole(name: "viewer", .admin)
            #expect(try await viewer.get("/admin/api-keys/new").status == 200)
        }
    }

    @Test func theCommandLineSetsRoles() async throws {
        let directory = try TestServer.makeDirectory()
        let data = ["--data", directory.path, "--database", ""]
        let bad = try await ClientCommandTests.intake(["admin", "create", "grace", "--role", "boss"] + data)
        #expect(bad.status != 0 && bad.stderr.contains("Unknown role 'boss': use viewer, operator or admin."), "\(bad.stderr)")
        let made = try await ClientCommandTests.runShell(
            "printf '%s\\n' 'a long enough password' | '\(ServerProcess.executable.path)' admin create grace --role operator --data '\(directory.path)' --database ''"
        )
        #expect(made.contains("Created admin account grace (operator)."), "\(made)")
        #expect(try await ClientCommandTests.intake(["admin", "role", "grace", "viewer"] + data).status == 0)
        let list = try await ClientCommandTests.intake(["admin", "list"] + data)
        #expect(list.stdout.contains("\tactive\tviewer"), "\(list.stdout)")
    }
}
