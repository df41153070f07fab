import Foundation
import IntakeCore
import IntakeHTTP
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

/// An attribute's values in the attribute table of an object or a version: its name and code, the
/// qualifier, and each value as people read it, one or more lines.
struct AttributeRow: Sendable {
    /// A line of a value; a ref links to its object (`isRef`: a line without one is looked up no
    /// further, so it never links to the page's own object).
    struct Line: Sendable {
        var text: String
        var ref: String
        var isRef: Bool

        init(_ text: String, ref: String? = nil) { (self.text, self.ref, isRef) = (text, ref ?? "", ref != nil) }
    }
    var attribute: String
    var code: String
    var qualifier: String
    var lines: [Line]
}

/// One object: its details, attributes and JSON.
struct ObjectPage: Sendable {
    var ref: String
    var type: String
    var version: Int
    var created: [String: String]?
    var updated: [String: String]?
    var values: [AttributeRow]
    var json: String
    var deleted: Bool

    init(_ object: ObjectRecord, schema: Schema, values: [AttributeRow]) {
        (ref, version, deleted, self.values) = (object.ref.text, object.version, object.deleted, values)
        type = object.type.map { "\(schema.types[$0]?.name ?? $0) (\($0))" } ?? ""
        (created, updated) = (Format.time(object.created), Format.time(object.updated))
        json = ObjectJSON.object(object).prettyJSON(indent: 2)
    }
}

/// One saved version of an object.
struct VersionPage: Sendable {
    var ref: String
    var version: Int
    var current: Int
    var saved: [String: String]?
    var batch: String?
    var batchID: String?
    var deleted: Bool
    var values: [AttributeRow]
    var json: String

    init(_ version: ObjectVersionRecord, of object: ObjectRecord, values: [AttributeRow]) {
        (ref, self.version, current, deleted, self.values) = (object.ref.text, version.version, object.version, version.deleted, values)
        (saved, batch, batchID) = (Format.time(version.saved), version.batch, version.batchID)
        json = ObjectJSON.version(version).prettyJSON(indent: 2)
    }
}

/// An object's versions, oldest first, each with what it changed.
struct HistoryPage: Sendable {
    struct Row: Sendable {
        var version: Int
        var saved: [String: String]?
        var batch: String?
        var batchID: String?
        /// `+ code: value` and `− code: value` per value added or removed; "Deleted" first.
        var changes: [String]
        var href: String
    }
    var ref: String
    var rows: [Row]
}
