import Foundation
import Hummingbird
import Ink
import IntakeHTTP

extension AdminUI {
    func addDocsRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "docs") { _, _, session in
            try await render(
                .docs, title: "Documentation", session: &session, crumbs: [Crumb.home, Crumb("Documentation")],
                model: DocsPage(documents: AdminDocs.documents.map { DocsPage.Document(slug: $0.slug, title: $0.title, path: $0.path) }))
        }
        get(admin, "docs/:doc") { _, context, session in
            guard let document = AdminDocs.documents.first(where: { $0.slug == context.parameters.get("doc") }) else {
                return notFound("Document \(context.parameters.get("doc") ?? "")", session: session)
            }
            return try await render(
                .doc, title: document.title, session: &session,
                crumbs: [Crumb.home, Crumb("Documentation", AdminPath.docs), Crumb(document.title)],
                model: DocPage(html: renderer.documentHTML[document.slug] ?? "", path: document.path))
        }
    }
}

/// The shipped Markdown documents as HTML, made once: headings get GitHub-style ids (so links to
/// `#data-types` work), and links between the documents point at their admin pages. The text is the
/// project's own (in the binary), not user input; it has no raw HTML of its own.
enum DocumentRendering {
    static func html(_ markdown: String) -> String {
        var html = MarkdownParser().html(from: markdown)
        // The first heading is the page's h1 already.
        if let range = html.range(of: #"<h1>[^<]*</h1>"#, options: .regularExpression) { html.removeSubrange(range) }
        for level in 2...4 {
            html = html.replacing(try! Regex("<h\(level)>(.*?)</h\(level)>")) { match in
                let inner = String(match.output[1].substring ?? "")
                return "<h\(level) id=\"\(slug(inner))\">\(inner)</h\(level)>"
            }
        }
        for document in AdminDocs.documents {
            let file = URL(fileURLWithPath: document.path).lastPathComponent
            html = html.replacingOccurrences(of: "href=\"\(file)", with: "href=\"" + AdminPath.document(document.slug))
        }
        return html
    }

    /// `Data types` → `data-types`, as GitHub makes heading anchors (tags and punctuation dropped).
    static func slug(_ heading: String) -> String {
        let text = heading.replacing(#/<[^>]+>/#, with: "").lowercased()
        return String(text.compactMap { $0 == " " ? "-" : ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : nil })
    }
}
