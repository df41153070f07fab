import IntakeStore

/// Which role each admin UI route needs (docs/admin-ui.md "Roles"), written once: the `get` and
/// `post` helpers ask here for every route they register, and refuse with a 403 page whatever the
/// page showed. A viewer reads every page; whatever changes something is an operator's, unless it
/// manages keys, accounts, push APIs or webhooks (an admin's) or is the viewer's own (signing out,
/// one's password, a generated skeleton, which changes nothing).
enum AdminAccess {
    /// Route prefixes (relative to /admin) whose changes are an admin's.
    static let adminAreas = ["api-keys", "webhooks", "push-apis"]
    /// POST routes anyone signed in may use.
    static let everyonesPosts: Set<String> = ["account", "logout", "models/:model/generate"]
    /// GET pages that are forms of an operator's changes.
    static let operatorForms = Set(["control-files/new", "control-files/:cid/new-batch", "batches/:id/files"])
        .union(ConfirmedAction.allCases.map { "batches/:id/\($0.rawValue)" })
    /// GET pages that are forms of an admin's changes, or show what only an admin may see.
    static let adminForms: Set<String> = ["api-keys/new", "api-keys/:kid/created", "api-keys/:kid/revoke", "webhooks/:name/remove", "push-apis/:name"]

    static func role(forPost route: String) -> AdminRole {
        if everyonesPosts.contains(route) { return .viewer }
        return isAdminArea(route) ? .admin : .operator
    }

    static func role(forGet route: String) -> AdminRole {
        if adminForms.contains(route) { return .admin }
        return operatorForms.contains(route) ? .operator : .viewer
    }

    private static func isAdminArea(_ route: String) -> Bool {
        adminAreas.contains { route == $0 || route.hasPrefix($0 + "/") }
    }
}
