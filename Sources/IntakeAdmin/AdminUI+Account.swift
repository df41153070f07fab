import Foundation
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeHTTP
import IntakeStore

extension AdminUI {
    func addAccountRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "account") { _, _, session in
            try await render(
                .account, title: "Your account", session: &session, crumbs: [Crumb.home, Crumb("Your account")], model: AccountPage(formErrors: FormErrors()))
        }
        post(admin, "account", use: changePassword)
        get(admin, "schema", use: schemaPage)
    }

    /// An admin changes their own password: the current one first, the new one twice.
    @Sendable func changePassword(_ request: Request, context: IntakeRequestContext, form: SubmittedForm, session: inout AdminSession)
        async throws -> Response
    {
        let current = form.fields["current"] ?? "", new = form.fields["new"] ?? "", repeated = form.fields["repeat"] ?? ""
        var errors = FormErrors()
        if current.isEmpty {
            errors.add("current", "Required field")
        } else if try await !accounts.verify(name: session.account, password: current) {
            errors.add("current", "This is not your current password.")
        }
        if new.isEmpty {
            errors.add("new", "Required field")
        } else if new.count < AdminAccounts.minimumPasswordLength {
            errors.add("new", "At least \(AdminAccounts.minimumPasswordLength) characters")
        }
        if errors["new"] == nil, new != repeated { errors.add("repeat", "The two new passwords differ.") }
        guard errors.isEmpty else {
            return try await render(
                .account, title: "Your account", session: &session, status: .badRequest, crumbs: [Crumb.home, Crumb("Your account")],
                model: AccountPage(formErrors: errors))
        }
        try await accounts.changePassword(name: session.account, password: new)
        try await audit("password changed", detail: session.account)
        return try await redirect(AdminPath.account, flash: "Your password was changed.", session: &session)
    }

    /// Types (by parent), attributes and qualifiers: the same facts as `GET /api/v1/schema`.
    @Sendable func schemaPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        try await render(
            .schema, title: "Schema", session: &session, crumbs: [Crumb.home, Crumb("Models", AdminPath.models), Crumb("Schema")],
            model: SchemaPage(schema: schema))
    }
}
