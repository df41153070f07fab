import Foundation
import Hummingbird
import IntakeCore
import IntakeHTTP
import IntakeStore

extension AdminUI {
    static let objectsPerPage = 100

    func addObjectRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "objects", use: objectsPage)
        get(admin, "objects/:ref", use: objectPage)
        get(admin, "objects/:ref/history", use: historyPage)
        get(admin, "objects/:ref/versions/:version", use: versionPage)
        // Anything else under /admin: the not-found page, signed in or not.
        admin.get("**") { request, _ in
            renderer.message(status: .notFound, title: "Not found", text: "There is no page at \(request.uri.path).", session: nil)
        }
    }

    /// Objects by type (with subtypes when asked) and exact title, cursor-paged as the read API.
    @Sendable func objectsPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        let query = request.uri.formParameters
        let type = query["type"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let subtypes = query["subtypes"] != nil
        let title = query["title"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let after = query["after"].flatMap { ObjectRef(text: String($0)) }
        let types = type.map { subtypes ? schema.typeWithSubtypes($0) : [$0] }
        let batch = query["batch"].map(String.init).flatMap { $0.isEmpty ? nil : BatchID(rawValue: $0) }
        var objects: [ObjectRecord]
        if let batch {
            // Written by a batch: narrowed by type and title here, reading on until a page is full.
            objects = []
            var cursor = after
            while objects.count <= Self.objectsPerPage {
                let page = try await store.objects(writtenBy: batch, after: cursor, limit: Self.objectsPerPage + 1)
                objects += page.filter { object in
                    (types.map { object.type.map($0.contains) ?? false } ?? true) && (title.map { $0 == object.title } ?? true)
                }
                guard page.count == Self.objectsPerPage + 1, let last = page.last else { break }
                cursor = last.ref
            }
        } else {
            objects = try await store.objects(types: types, title: title, after: after, limit: Self.objectsPerPage + 1)
        }
        return try await render(
            .objects, title: "Objects", session: &session, crumbs: [Crumb.home, Crumb("Objects")],
            model: ObjectsPage(
                objects: objects, perPage: Self.objectsPerPage, schema: schema, type: type, subtypes: subtypes, title: title, batch: batch))
    }

    func objectRef(_ context: IntakeRequestContext) -> ObjectRef? {
        context.parameters.get("ref").flatMap { ObjectRef(text: $0) }
    }

    @Sendable func objectPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let ref = objectRef(context), let object = try await store.object(ref) else {
            return notFound("Object \(context.parameters.get("ref") ?? "")", session: session)
        }
        return try await render(
            .object, title: object.title.isEmpty ? object.ref.text : object.title, session: &session,
            crumbs: [Crumb.home, Crumb("Objects", AdminPath.objects), Crumb(object.ref.text)],
            model: ObjectPage(object, schema: schema, values: try await valueRows(object.values)))
    }

    /// The rows of an attribute table: attribute name and code, qualifier, the value for people.
    func valueRows(_ values: [ObjectValue]) async throws -> [AttributeRow] {
        var rows: [AttributeRow] = []
        for value in values {
            rows.append(
                AttributeRow(
                    attribute: schema.attributes[value.attribute]?.name ?? value.attribute, code: value.attribute,
                    qualifier: value.qualifier ?? "", lines: try await humanLines(value.value)))
        }
        return rows
    }

    /// A value as people read it: names joined, addresses on lines, refs with their titles.
    func humanLines(_ value: AttributeValue) async throws -> [AttributeRow.Line] {
        let encoded = AttributeValueCoding.encode(value)
        switch value {
        case .text(_, let text): return [.init(text)]
        case .telephone(let text, let e164, _): return [.init(e164.map { "\(text) (\($0))" } ?? text)]
        case .ref(let ref):
            let title = try await store.object(ref)?.title
            return [.init(title ?? ref.text, ref: ref.text)]
        case .personName:
            let parts = ["title", "first", "middle", "last", "suffix"].compactMap { encoded[$0]?.stringValue }
            return [.init(parts.joined(separator: " "))]
        case .postalAddress:
            return ["street1", "street2", "city", "county", "postcode", "country"].compactMap { encoded[$0]?.stringValue }.map { .init($0) }
        default:
            let shown = encoded["value"] ?? encoded["code"] ?? .object(encoded)
            return [.init(shown.stringValue ?? shown.compactJSON)]
        }
    }

    /// One version of an object, as it was saved.
    @Sendable func versionPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let ref = objectRef(context), let object = try await store.object(ref),
            let number = context.parameters.get("version").flatMap({ Int($0) }),
            let version = try await store.history(of: ref).first(where: { $0.version == number })
        else {
            return notFound("Version \(context.parameters.get("version") ?? "") of object \(context.parameters.get("ref") ?? "")", session: session)
        }
        return try await render(
            .version, title: "\(object.title), version \(number)", session: &session,
            crumbs: [
                Crumb.home, Crumb("Objects", AdminPath.objects), Crumb(ref.text, AdminPath.object(ref)),
                Crumb("History", AdminPath.objectHistory(ref)), Crumb("Version \(number)")
            ],
            model: VersionPage(version, of: object, values: try await valueRows(version.values)))
    }

    @Sendable func historyPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let ref = objectRef(context), let object = try await store.object(ref) else {
            return notFound("Object \(context.parameters.get("ref") ?? "")", session: session)
        }
        let versions = try await store.history(of: ref)
        var previous: [ObjectValue] = []
        var rows: [HistoryPage.Row] = []
        for version in versions {
            // What changed against the previous version, per attribute: values added and removed.
            let added = version.values.filter { !previous.contains($0) }
            let removed = previous.filter { !version.values.contains($0) }
            var changes: [String] = []
            for value in added {
                changes.append("+ \(value.attribute): \(try await humanLines(value.value).map(\.text).joined(separator: ", "))")
            }
            for value in removed {
                changes.append("− \(value.attribute): \(try await humanLines(value.value).map(\.text).joined(separator: ", "))")
            }
            if version.deleted { changes.insert("Deleted", at: 0) }
            rows.append(
                HistoryPage.Row(
                    version: version.version, saved: Format.time(version.saved), batch: version.batch, batchID: version.batchID, changes: changes,
                    href: AdminPath.object(ref) + "/versions/\(version.version)"))
            previous = version.values
        }
        return try await render(
            .history, title: "History: \(object.title)", session: &session,
            crumbs: [Crumb.home, Crumb("Objects", AdminPath.objects), Crumb(object.ref.text, AdminPath.object(ref)), Crumb("History")],
            model: HistoryPage(ref: ref.text, rows: rows))
    }
}
