import IntakeStore
import Mustache

/// What a page template sees: its typed model's properties (by name, through reflection), then what
/// every page has (its title, the account's role, the signed-in account and the form token), then
/// what the layout it inherits shows (`LayoutValues`).
///
/// Page models are `Sendable` structs built from store values by their initialisers, without a
/// request, so a test builds one and checks it. Templates see stored properties only (not computed
/// ones); a nil optional is absent, so `{{#x}}` is false for it (an empty string counts as a value).
struct PageContext<Model: Sendable>: MustacheParent {
    let model: Model
    let title: String
    let canOperate: Bool
    let isAdmin: Bool
    let user: String?
    let csrf: String?
    let layout: LayoutValues

    func child(named name: String) -> Any? {
        if let value = Self.property(name, of: model) { return value }
        if let form = model as? any FormPageModel, let value = form.formErrors.templateValue(name) { return value }
        switch name {
        case "title": return title
        case "canOperate": return canOperate
        case "isAdmin": return isAdmin
        case "user": return user
        case "csrf": return csrf
        default: return Self.property(name, of: layout)
        }
    }

    /// The value of a stored property, unwrapped when optional; nil when absent or nil.
    static func property(_ name: String, of value: Any) -> Any? {
        guard let child = Mirror(reflecting: value).children.first(where: { $0.label == name }) else { return nil }
        let mirror = Mirror(reflecting: child.value)
        guard mirror.displayStyle == .optional else { return child.value }
        return mirror.children.first?.value
    }
}

/// What the layout shows besides the title and the account: the crumbs, the one-time notice, and
/// whether the page reloads itself without JavaScript (a running batch).
struct LayoutValues: Sendable {
    /// A crumb; the last one, the page itself, is not a link.
    struct CrumbView: Sendable {
        var label: String
        var href: String
        var isLink: Bool
    }
    var crumbs: [CrumbView]
    var hasCrumbs: Bool
    var flash: String?
    var refresh: Bool

    init(crumbs: [Crumb], flash: String?, refresh: Bool) {
        self.crumbs = crumbs.enumerated().map { index, crumb in
            let href = index == crumbs.count - 1 ? nil : crumb.href
            return CrumbView(label: crumb.label, href: href ?? "", isLink: href != nil)
        }
        (hasCrumbs, self.flash, self.refresh) = (!crumbs.isEmpty, flash, refresh)
    }
}

/// A batch in one line of a list (home, batches, feeds, a control file's batches).
struct BatchRow: Sendable {
    var id: String
    var shortID: String
    var comment: String
    var state: String
    /// Empty until the batch has finished.
    var errors: String
    var created: [String: String]?
    var started: [String: String]?
    var finished: [String: String]?
    var read: Int
    var failed: Int
    var active: Bool
    /// How long it ran (or has run), in the batches list; nil before it started.
    var duration: String?

    init(_ batch: Batch) {
        id = batch.id.rawValue
        shortID = Format.short(batch.id.rawValue)
        comment = batch.comment
        state = batch.state.rawValue
        errors = batch.finished == nil ? "" : "\(batch.progress.errors)"
        created = Format.time(batch.created)
        started = Format.time(batch.started)
        finished = Format.time(batch.finished)
        read = batch.progress.recordsRead
        failed = batch.progress.recordsFailed
        active = batch.state == .scheduled || batch.state == .running
    }
}

/// A page with a form: the template's `{{> errors}}` summary and `{{#nameError}}` beside each
/// field come from `formErrors`.
protocol FormPageModel: Sendable {
    var formErrors: FormErrors { get }
}

/// A confirmation page's form: the question, the button, where it posts and where Cancel goes.
struct ConfirmPage: Sendable {
    var question: String
    var button: String
    var action: String
    var back: String
}

/// A page with one message (not found, not allowed, too large), and where Back goes.
struct MessagePage: Sendable {
    var message: String
    var back: String?
}

/// The addresses of a numbered list's previous and next pages, with its filters kept.
struct PageLinks {
    var previous: String?
    var next: String?

    /// - Parameter query: the filters, as `name=value` parts already encoded (`part`).
    init(_ path: String, query: [String], page: Int, perPage: Int, count: Int) {
        let kept = query.map { $0 + "&" }.joined()
        previous = page > 1 ? path + "?\(kept)page=\(page - 1)" : nil
        next = page * perPage < count ? path + "?\(kept)page=\(page + 1)" : nil
    }

    /// `name=value` with the value percent-encoded (all but letters and digits).
    static func part(_ name: String, _ value: String) -> String { name + "=" + encoded(value) }

    /// A value in a path or query: everything but letters and digits percent-encoded.
    static func encoded(_ value: String) -> String { value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }
}
