import Foundation
import IntakeCore
import IntakeStore

/// Objects by type (with subtypes when asked), exact title and the batch that wrote them, a page at
/// a time after a ref.
struct ObjectsPage: Sendable {
    struct Row: Sendable {
        var ref: String
        var title: String
        /// The type's name ("" for an object without one).
        var type: String
        var version: Int
        var updated: [String: String]?
    }
    struct TypeChoice: Sendable {
        var code: String
        var name: String
        var selected: Bool
    }

    var rows: [Row]
    var hasRows: Bool
    /// The next page's address, when there are more objects.
    var next: String?
    var titleFilter: String
    var subtypes: Bool
    var batchFilter: String
    var types: [TypeChoice]

    /// - Parameter objects: the matching objects from the cursor on, one more than a page when
    ///   there are more.
    init(objects: [ObjectRecord], perPage: Int, schema: Schema, type: String?, subtypes: Bool, title: String?, batch: BatchID?) {
        let shown = objects.prefix(perPage)
        rows = shown.map { object in
            Row(
                ref: object.ref.text, title: object.title, type: object.type.map { schema.types[$0]?.name ?? $0 } ?? "", version: object.version,
                updated: Format.time(object.updated))
        }
        hasRows = !rows.isEmpty
        if objects.count > perPage, let last = shown.last {
            var parts: [String] = []
            if let type { parts.append(PageLinks.part("type", type)) }
            if subtypes { parts.append("subtypes=1") }
            if let title { parts.append(PageLinks.part("title", title)) }
            if let batch { parts.append("batch=" + batch.rawValue) }
            parts.append("after=\(last.ref.text)")
            next = AdminPath.objects + "?" + parts.joined(separator: "&")
        }
        (titleFilter, self.subtypes, batchFilter) = (title ?? "", subtypes, batch?.rawValue ?? "")
        types = schema.typeOrder.map { TypeChoice(code: $0, name: schema.types[$0]?.name ?? $0, selected: $0 == type) }
    }
}
