import Foundation
import Hummingbird
import IntakeCore
import IntakeRunner
import IntakeStore

/// The read API of docs/schema.md: objects, their history and listings by type.
struct ReadAPIController: Sendable {
    let environment: ImportEnvironment
    let authenticator: Authenticator

    func addRoutes(to router: Router<IntakeRequestContext>) {
        let group = router.authenticated(.read, by: authenticator)
        router.addEndpoint(APIPath.objects, method: .get, in: group, handler: list)
        router.addEndpoint("\(APIPath.objects)/:ref", method: .get, in: group, handler: object)
        router.addEndpoint("\(APIPath.objects)/:ref/history", method: .get, in: group, handler: history)
        router.addEndpoint("\(APIPath.readAPI)/schema", method: .get, in: group) { request, context in
            return json(SchemaJSON.schema(environment.models.schema))
        }
        router.addEndpoint("\(APIPath.readAPI)/models", method: .get, in: group) { request, context in
            let models = environment.models.order.compactMap { environment.models[$0] }
            return json(.object(JSONObject([("models", .array(models.map(SchemaJSON.modelSummary)))])))
        }
        router.addEndpoint("\(APIPath.readAPI)/models/:name", method: .get, in: group) { request, context in
            let name = context.parameters.get("name") ?? ""
            guard let model = environment.models[name] else { throw JSONAPIError(.notFound, "Model not found: \(name)") }
            return json(SchemaJSON.model(model))
        }
        router.addEndpoint("\(APIPath.readAPI)/dictionaries/:model/:destination", method: .get, in: group, handler: dictionaries)
        router.addEndpoint("\(APIPath.readAPI)/batches", method: .get, in: group, handler: batches)
        router.addEndpoint(APIPath.feeds, method: .get, in: group) { request, context in
            let feeds = try await environment.store.feeds()
            return json(.object(JSONObject([("feeds", .array(feeds.map(FeedJSON.feed)))])))
        }
        router.addEndpoint("\(APIPath.feeds)/:name", method: .get, in: group) { request, context in
            json(FeedJSON.feed(try await feed(context)))
        }
        router.addEndpoint("\(APIPath.feeds)/:name/keys", method: .get, in: group, handler: feedKeys)
    }

    private func feed(_ context: IntakeRequestContext) async throws -> FeedRecord {
        let name = context.parameters.get("name") ?? ""
        guard FeedDeclaration.isValidName(name), let feed = try await environment.store.feed(named: name) else {
            throw JSONAPIError(.notFound, "Feed not found: \(name.escapingControlCharacters)")
        }
        return feed
    }

    /// `?state=active|left&after=FILE/KEY&limit=N`: keys in (file, key) order, paged by the last
    /// one read (`next`).
    @Sendable func feedKeys(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let feed = try await feed(context)
        let query = request.uri.formParameters
        var active: Bool?
        switch query["state"].map(String.init) {
        case nil: break
        case "active"?: active = true
        case "left"?: active = false
        case let other?: throw JSONAPIError(.badRequest, "Invalid state: \(other.escapingControlCharacters) (use active or left)")
        }
        var limit = 100
        if let text = query["limit"] {
            guard let n = Int(String(text)), n >= 1 else { throw JSONAPIError(.badRequest, "Invalid limit: \(text)") }
            limit = min(n, 1000)
        }
        var after: (file: String, key: String)?
        if let text = query["after"].map(String.init) {
            guard let slash = text.firstIndex(of: "/") else {
                throw JSONAPIError(.badRequest, "Invalid after: \(text.escapingControlCharacters) (FILE/KEY)")
            }
            after = (String(text[..<slash]), String(text[text.index(after: slash)...]))
        }
        let keys = try await environment.store.feedKeys(feed: feed.name, active: active, after: after, limit: limit + 1)
        let page = Array(keys.prefix(limit))
        let next: JSONValue = keys.count > limit ? .string(page.last!.identity) : .null
        return json(.object(JSONObject([("keys", .array(page.map(FeedJSON.key))), ("next", next)])))
    }

    @Sendable func dictionaries(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let model = context.parameters.get("model") ?? ""
        let destination = context.parameters.get("destination") ?? ""
        guard environment.models[model]?.destination(destination) != nil else {
            throw JSONAPIError(.notFound, "Destination not found: \(model)/\(destination)")
        }
        let batch = request.uri.formParameters["batch"].map { BatchID(rawValue: String($0)) }
        let documents = try await environment.store.documents(model: model, destination: destination, batch: batch)
        return json(
            .object(
                JSONObject([
                    (
                        "documents",
                        .array(
                            documents.map { d in
                                .object(JSONObject([("batch", d.batch.map(JSONValue.string) ?? .null), ("record", .string(d.record)), ("values", d.values)]))
                            })
                    )
                ])))
    }

    @Sendable func batches(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let query = request.uri.formParameters
        var state: BatchState?
        if let text = query["state"] {
            guard let s = BatchState(rawValue: String(text)) else { throw JSONAPIError(.badRequest, "Unknown state: \(text)") }
            state = s
        }
        let limit = min(max(query["limit"].flatMap { Int(String($0)) } ?? 100, 1), 1000)
        let list = try await environment.store.batches(state: state, limit: limit)
        return json(
            .object(
                JSONObject([
                    (
                        "batches",
                        .array(
                            list.map { b in
                                (try? JSONParser.parse(BatchStatusJSON.render(b))) ?? .null
                            })
                    )
                ])))
    }

    private func json(_ value: JSONValue) -> Response {
        TextResponse.plain(value.compactJSON, contentType: "application/json; charset=utf-8")
    }

    private func ref(_ context: IntakeRequestContext) throws -> ObjectRef {
        let text = context.parameters.get("ref") ?? ""
        guard let ref = ObjectRef(text: text) else { throw JSONAPIError(.notFound, "Object not found: \(text)") }
        return ref
    }

    @Sendable func object(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let ref = try ref(context)
        guard let object = try await environment.store.object(ref) else {
            throw JSONAPIError(.notFound, "Object not found: \(ref.text)")
        }
        return json(ObjectJSON.object(object))
    }

    @Sendable func history(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let ref = try ref(context)
        let versions = try await environment.store.history(of: ref)
        guard !versions.isEmpty else { throw JSONAPIError(.notFound, "Object not found: \(ref.text)") }
        return json(.object(JSONObject([("versions", .array(versions.map(ObjectJSON.version)))])))
    }

    @Sendable func list(_ request: Request, context: IntakeRequestContext) async throws -> Response {
        let query = request.uri.formParameters
        var types: Set<String>?
        if let type = query["type"].map(String.init) {
            guard environment.models.schema.types[type] != nil else {
                throw JSONAPIError(.badRequest, "Unknown type: \(type)")
            }
            types = query["subtypes"] == "true" ? environment.models.schema.typeWithSubtypes(type) : [type]
        }
        var limit = 100
        if let text = query["limit"] {
            guard let n = Int(String(text)), n >= 1 else { throw JSONAPIError(.badRequest, "Invalid limit: \(text)") }
            limit = min(n, 1000)
        }
        var after: ObjectRef?
        if let cursor = query["cursor"] {
            guard let ref = ObjectRef(text: String(cursor)) else { throw JSONAPIError(.badRequest, "Invalid cursor: \(cursor)") }
            after = ref
        }
        let objects = try await environment.store.objects(
            types: types, title: query["title"].map(String.init),
            after: after, limit: limit + 1)
        let page = Array(objects.prefix(limit))
        let next: JSONValue = objects.count > limit ? .string(page.last!.ref.text) : .null
        return json(.object(JSONObject([("objects", .array(page.map(ObjectJSON.object))), ("next", next)])))
    }
}
