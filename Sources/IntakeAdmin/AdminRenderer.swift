import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import IntakeCore
import IntakeStore
import Mustache

extension HTTPField.Name {
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}

/// The templates (one per page plus the layout) and the stylesheet, script and icon, compiled into
/// the binary (`AdminAssets`) and parsed once at start-up. Mustache escapes every `{{value}}` for
/// HTML; the only unescaped insertion is the page body into the layout.
struct AdminRenderer: Sendable {
    let library: MustacheLibrary
    let staticFiles: [String: StaticFile]
    /// The shipped documents as HTML, by slug.
    let documentHTML: [String: String]

    struct StaticFile: Sendable {
        var text: String
        var contentType: String
        var etag: String
    }

    init() throws {
        var library = MustacheLibrary()
        for (name, text) in AdminAssets.templates {
            try library.register(text, named: name)
        }
        self.library = library
        var files: [String: StaticFile] = [:]
        for (name, text) in AdminAssets.staticFiles {
            let type =
                name.hasSuffix(".css") ? "text/css; charset=utf-8" : name.hasSuffix(".svg") ? "image/svg+xml" : "text/javascript; charset=utf-8"
            let etag = "\"" + SHA256.hash(data: Data(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined() + "\""
            files[name] = StaticFile(text: text, contentType: type, etag: etag)
        }
        self.staticFiles = files
        self.documentHTML = Dictionary(uniqueKeysWithValues: AdminDocs.documents.map { ($0.slug, DocumentRendering.html($0.markdown)) })
    }

    func page(
        _ template: String, title: String, session: AdminSession?, flash: String? = nil, status: HTTPResponse.Status = .ok,
        crumbs: [Crumb] = [], context: [String: Any] = [:], refresh: Bool = false
    ) -> Response {
        var context = context
        context["title"] = title
        if let session {
            context["user"] = session.account
            context["csrf"] = session.csrfToken
        }
        let body = library.render(Self.removingNils(context), withTemplate: template) ?? ""
        return layout(body, title: title, session: session, flash: flash, status: status, crumbs: crumbs, refresh: refresh)
    }

    /// A page from its typed model (`PageContext`).
    func page<Model: Sendable>(
        _ template: AdminTemplate, title: String, session: AdminSession?, flash: String? = nil, status: HTTPResponse.Status = .ok,
        crumbs: [Crumb] = [], model: Model, refresh: Bool = false
    ) -> Response {
        layout(
            body(template, title: title, session: session, model: model), title: title, session: session, flash: flash, status: status,
            crumbs: crumbs, refresh: refresh)
    }

    /// The HTML of a page's body, before the layout wraps it.
    func body<Model: Sendable>(_ template: AdminTemplate, title: String, session: AdminSession?, model: Model) -> String {
        let context = PageContext(
            model: model, title: title, canOperate: session?.role.allows(.operator) ?? false, isAdmin: session?.role.allows(.admin) ?? false,
            user: session?.account, csrf: session?.csrfToken)
        return library.render(context, withTemplate: template.rawValue) ?? ""
    }

    /// The page's body inside the layout (title, crumbs, the one-time notice, the account).
    private func layout(
        _ body: String, title: String, session: AdminSession?, flash: String?, status: HTTPResponse.Status, crumbs: [Crumb], refresh: Bool
    ) -> Response {
        var layout: [String: Any] = [
            "title": title, "body": body, "refresh": refresh, "hasCrumbs": !crumbs.isEmpty,
            "crumbs": crumbs.enumerated().map { index, crumb in
                ["label": crumb.label, "href": (index == crumbs.count - 1 ? nil : crumb.href) as Any]
            }
        ]
        if let flash { layout["flash"] = flash }
        if let session {
            layout["user"] = session.account
            layout["csrf"] = session.csrfToken
        }
        let html = library.render(Self.removingNils(layout), withTemplate: "layout") ?? ""
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Context values built with `optional as Any` hold `Optional.none`, which a template section
    /// would take for a value: drop them (and unwrap the others), at every depth. Mustache also takes
    /// an empty string for a value, so a page's own empty strings go too (`{{#mode}}` is then false).
    /// Nested ones stay: a missing key in a row would be looked up in the page instead.
    static func removingNils(_ value: Any, topLevel: Bool = true) -> Any {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return Optional<Any>.none as Any }
            return removingNils(wrapped, topLevel: topLevel)
        }
        if let dictionary = value as? [String: Any] {
            var result: [String: Any] = [:]
            for (key, element) in dictionary {
                let cleaned = removingNils(element, topLevel: false)
                if topLevel, let text = cleaned as? String, text.isEmpty { continue }
                if Mirror(reflecting: cleaned).displayStyle != .optional { result[key] = cleaned }
            }
            return result
        }
        if let array = value as? [Any] { return array.map { removingNils($0, topLevel: false) } }
        return value
    }

    /// A page with one message: not found, not possible, form expired, too large.
    func message(status: HTTPResponse.Status, title: String, text: String, session: AdminSession?, back: String? = nil) -> Response {
        page(
            .message, title: title, session: session, status: status, crumbs: [Crumb.home, Crumb(title)],
            model: MessagePage(message: text, back: back))
    }
}

/// How the UI writes times, sizes and shortened identifiers.
enum Format {
    /// `{iso, text}` for `<time datetime="{{iso}}">{{text}}</time>`.
    static func time(_ date: Date?) -> [String: String]? {
        guard let date else { return nil }
        let iso = Timestamp.string(date)
        // 2026-11-29T10:15:00Z → 2026-11-29 10:15 UTC
        let text = iso.prefix(10) + " " + iso.dropFirst(11).prefix(5) + " UTC"
        return ["iso": iso, "text": String(text)]
    }

    /// Base-1000 sizes: `812 bytes`, `1.4 MB`.
    static func size(_ bytes: Int64) -> String {
        if bytes < 1000 { return bytes == 1 ? "1 byte" : "\(bytes) bytes" }
        let units = ["kB", "MB", "GB", "TB"]
        var value = Double(bytes) / 1000
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return String(format: value < 10 ? "%.1f" : "%.0f", value) + " " + units[unit]
    }

    static func sizeContext(_ bytes: Int64) -> [String: String] { ["text": size(bytes), "exact": "\(bytes) bytes"] }

    static func short(_ text: String) -> String { text.count > 10 ? String(text.prefix(10)) + "..." : text }
}
