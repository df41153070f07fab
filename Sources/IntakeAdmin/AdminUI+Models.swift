import Foundation
import Hummingbird
import IntakeCore
import IntakeHTTP
import IntakeStore

extension AdminUI {
    /// More objects than this make a mapping pointless (mappings are for short classification lists).
    static let maxMappingObjects = 256

    func addModelRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "models", use: modelsPage)
        get(admin, "models/:model", use: modelPage)
        get(admin, "models/:model/generate", use: generatePage)
        post(admin, "models/:model/generate", use: generate)
        get(admin, "models/:model/mapping", use: mappingPage)
        get(admin, "filters") { _, _, session in
            let filters = environment.filters.sorted { $0.name < $1.name }.map { FiltersPage.Filter(name: $0.name, description: $0.description) }
            return try await render(
                .filters, title: "Value filters", session: &session, crumbs: [Crumb.home, Crumb("Value filters")],
                model: FiltersPage(filters: filters))
        }
        addDocsRoutes(admin)
    }

    var schema: Schema { environment.models.schema }

    /// Model names contain `:`; links percent-encode them and both forms are accepted.
    func model(_ context: IntakeRequestContext) -> Model? {
        guard let raw = context.parameters.get("model") else { return nil }
        return environment.models[raw.removingPercentEncoding ?? raw]
    }

    func modelNotFound(_ context: IntakeRequestContext, _ session: AdminSession) -> Response {
        notFound("Model \(context.parameters.get("model")?.removingPercentEncoding ?? "")", session: session)
    }

    @Sendable func modelsPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        try await render(
            .models, title: "Models", session: &session, crumbs: [Crumb.home, Crumb("Models")],
            model: ModelsPage(environment.models.order.compactMap { environment.models[$0] }))
    }

    func linkedTypes(_ destination: Destination, _ name: NameDefinition) -> [String] {
        guard destination.kind == .object, name.dataType == .ref else { return [] }
        return schema.attributes[name.name]?.linkedTypes ?? []
    }

    @Sendable func modelPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let model = model(context) else { return modelNotFound(context, session) }
        return try await render(
            .model, title: "\(model.name) (\(model.title))", session: &session,
            crumbs: [Crumb.home, Crumb("Models", AdminPath.models), Crumb(model.name)],
            model: ModelPage(model, schema: schema, linkedTypes: linkedTypes))
    }

    /// Checkbox names: `n.<destination>.<name>` and `m.<destination>.<name>`, percent-encoded so that
    /// codes with `:` or `.` stay unambiguous.
    static func checkboxName(_ prefix: String, _ destination: String, _ name: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_:"))
        return prefix + "." + (destination.addingPercentEncoding(withAllowedCharacters: allowed) ?? destination) + "."
            + (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name)
    }

    @Sendable func generatePage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let model = model(context) else { return modelNotFound(context, session) }
        return try await render(
            .generate, title: "Generate control file for \(model.name)", session: &session,
            crumbs: [Crumb.home, Crumb("Models", AdminPath.models), Crumb(model.name, AdminPath.model(model.name)), Crumb("Generate")],
            model: GeneratePage(model, checkboxName: Self.checkboxName))
    }

    @Sendable func generate(_ request: Request, context: IntakeRequestContext, form: SubmittedForm, session: inout AdminSession) async throws
        -> Response
    {
        guard let model = model(context) else { return modelNotFound(context, session) }
        var selections: [ControlFileSkeleton.Selection] = []
        var mappings: [String: (name: String, mapping: JSONValue)] = [:]
        for destination in model.destinations where !destination.pseudo {
            for code in destination.nameOrder where form.fields[Self.checkboxName("n", destination.name, code)] != nil {
                selections.append(
                    .init(
                        destination: destination.name, name: code,
                        multivalue: form.fields[Self.checkboxName("m", destination.name, code)] != nil))
                if let name = destination.name(code), case .mapping(let mapping) = try await refMapping(destination, name) {
                    mappings[destination.name + "\u{0}" + code] = (mapping.name, mapping.json)
                }
            }
        }
        let skeleton = ControlFileSkeleton.generate(model: model, selections: selections) { destination, name in
            mappings[destination.name + "\u{0}" + name.name]
        }
        let json = skeleton.prettyJSON(indent: 4)
        if form.fields["download"] != nil {
            let name = String(model.name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", .contentDisposition: "attachment; filename=\"control-\(name).json\""],
                body: .init(byteBuffer: ByteBuffer(string: json + "\n")))
        }
        // The same choices again, for the Download button.
        let ticked = form.repeatedFields.filter { $0.name.hasPrefix("n.") || $0.name.hasPrefix("m.") }.map { GeneratedPage.Ticked(name: $0.name) }
        return try await render(
            .generated, title: "Generate control file for \(model.name)", session: &session,
            crumbs: [Crumb.home, Crumb("Models", AdminPath.models), Crumb(model.name, AdminPath.model(model.name)), Crumb("Generate")],
            model: GeneratedPage(json: json, ticked: ticked, action: AdminPath.model(model.name) + "/generate"))
    }

    enum RefMappingOutcome {
        case notRef
        case anyType
        case tooMany(linked: [String])
        case mapping(RefMapping)
    }

    struct RefMapping {
        var name: String
        var linked: [String]
        var usesTitles: Bool
        var json: JSONValue
    }

    /// The mapping of B.17: the linked types' objects (at most 256, by title), keyed `TODO-V0`… and
    /// valued by behaviour code when any has one (or there are none), else by title.
    func refMapping(_ destination: Destination, _ name: NameDefinition) async throws -> RefMappingOutcome {
        guard name.dataType == .ref else { return .notRef }
        let linked = linkedTypes(destination, name)
        guard !linked.isEmpty else { return .anyType }
        let mappingName = String(
            linked.map { schema.types[$0]?.name ?? $0 }.joined(separator: "-").lowercased().map {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) ? $0 : "-"
            })
        let types = linked.reduce(into: Set<String>()) { $0.formUnion(schema.typeWithSubtypes($1)) }
        let objects = try await store.objects(types: types, title: nil, after: nil, limit: Self.maxMappingObjects + 1)
        guard objects.count <= Self.maxMappingObjects else { return .tooMany(linked: linked) }
        let behaviours = Dictionary(
            schema.listObjects.filter { types.contains($0.type) }.map { ($0.title, $0.behaviour) }, uniquingKeysWith: { a, _ in a })
        let sorted = objects.sorted { $0.title < $1.title }
        let useBehaviour = sorted.isEmpty || sorted.contains { behaviours[$0.title] != nil }
        var values: [(String, JSONValue)] = []
        for object in sorted {
            guard let value = useBehaviour ? behaviours[object.title] : object.title else { continue }
            values.append(("TODO-V\(values.count)", .string(value)))
        }
        let json = JSONValue.object(
            JSONObject([
                ("types", .array(linked.map(JSONValue.string))), ("using", .string(useBehaviour ? "behaviour" : "title")),
                ("values", .object(JSONObject(values)))
            ]))
        return .mapping(RefMapping(name: mappingName, linked: linked, usesTitles: !useBehaviour, json: json))
    }

    @Sendable func mappingPage(_ request: Request, context: IntakeRequestContext, session: inout AdminSession) async throws -> Response {
        guard let model = model(context) else { return modelNotFound(context, session) }
        let destinationName = request.uri.formParameters["destination"].map(String.init) ?? ""
        let nameCode = request.uri.formParameters["name"].map(String.init) ?? ""
        guard let destination = model.destination(destinationName), let name = destination.name(nameCode) else {
            return notFound("Name \(destinationName) / \(nameCode) of model \(model.name)", session: session)
        }
        let title = "Mapping for \(model.name) / \(destinationName) / \(nameCode)"
        let crumbs = [Crumb.home, Crumb("Models", AdminPath.models), Crumb(model.name, AdminPath.model(model.name)), Crumb("Mapping")]
        var page = MappingPage(name: nameCode, linked: [])
        switch try await refMapping(destination, name) {
        case .notRef:
            return renderer.message(status: .badRequest, title: title, text: "Not a ref name", session: session, back: AdminPath.model(model.name))
        case .anyType:
            return renderer.message(
                status: .badRequest, title: title, text: "This name can link to any type, so no mapping can be generated.", session: session,
                back: AdminPath.model(model.name))
        case .tooMany(let linked):
            page.linked = linked.map { schema.types[$0]?.name ?? $0 }
            page.tooMany = true
        case .mapping(let mapping):
            page.linked = mapping.linked.map { schema.types[$0]?.name ?? $0 }
            page.usesTitles = mapping.usesTitles
            let instruction = JSONValue.object(
                JSONObject([
                    ("source", .string("TODO-INPUT")), ("destination", .string(destinationName)), ("name", .string(nameCode)),
                    ("refMapping", .string(mapping.name))
                ]))
            page.json = JSONValue.object(
                JSONObject([("instructions", .array([instruction])), ("mapping", .object(JSONObject([(mapping.name, mapping.json)])))])
            ).prettyJSON(indent: 4)
        }
        return try await render(.mapping, title: title, session: &session, crumbs: crumbs, model: page)
    }
}
