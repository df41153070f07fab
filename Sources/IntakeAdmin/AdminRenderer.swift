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

    /// A page from its typed model (`PageContext`): the page's template inherits the layout
    /// (`{{<layout}}{{$body}}…`), which shows the title, crumbs, the one-time notice and the account.
    func page<Model: Sendable>(
        _ template: AdminTemplate, title: String, session: AdminSession?, flash: String? = nil, status: HTTPResponse.Status = .ok,
        crumbs: [Crumb] = [], model: Model, refresh: Bool = false
    ) -> Response {
        let html = self.html(template, title: title, session: session, flash: flash, crumbs: crumbs, model: model, refresh: refresh)
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The HTML of a whole page.
    func html<Model: Sendable>(
        _ template: AdminTemplate, title: String, session: AdminSession?, flash: String? = nil, crumbs: [Crumb] = [], model: Model,
        refresh: Bool = false
    ) -> String {
        let context = PageContext(
            model: model, title: title, canOperate: session?.role.allows(.operator) ?? false, isAdmin: session?.role.allows(.admin) ?? false,
            user: session?.account, csrf: session?.csrfToken, layout: LayoutValues(crumbs: crumbs, flash: flash, refresh: refresh))
        return library.render(context, withTemplate: template.rawValue) ?? ""
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
