import IntakeCore

/// A complete in-memory implementation of the engine's repository, so engine tests run record by
/// record without a database.
final class InMemoryRepository: ObjectRepository {
    var objects: [ObjectRef: StoredObject] = [:]
    /// Deleted objects, as a store keeps them (found by nothing the engine asks).
    var deleted: [ObjectRef: StoredObject] = [:]
    var documents: [(String, String, String, JSONObject)] = []
    var nextRef: Int64 = 32768
    var saves = 0

    func object(_ ref: ObjectRef) -> StoredObject? { objects[ref] }

    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) -> StoredObject? {
        objects.values.sorted { $0.ref < $1.ref }.first { o in
            types.contains(o.type ?? "") && o.values.contains { $0.attribute == attribute && $0.value == .ref(target) }
        }
    }

    func ref(forBehaviour code: String) -> ObjectRef? {
        objects.values.sorted { $0.ref < $1.ref }.first { o in
            o.values.contains { $0.attribute == StandardSchema.behaviourAttribute && $0.value.displayText == code }
        }?.ref
    }

    func ref(forUsername username: String) -> ObjectRef? {
        objects.values.sorted { $0.ref < $1.ref }.first { o in
            o.values.contains { $0.attribute == StandardSchema.usernameAttribute && $0.value.displayText == username }
        }?.ref
    }

    func titles(ofTypes types: Set<String>, limit: Int) -> [(title: String, ref: ObjectRef)]? {
        let matching = objects.values.filter { types.contains($0.type ?? "") }.sorted { $0.ref < $1.ref }
        guard matching.count <= limit else { return nil }
        return matching.flatMap { o in
            o.values.filter { $0.attribute == StandardSchema.titleAttribute }.map { ($0.value.displayText, o.ref) }
        }
    }

    func allocateRef() -> ObjectRef {
        defer { nextRef += 1 }
        return ObjectRef(nextRef)
    }

    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) -> SaveOutcome {
        if let existing = objects[ref] {
            if existing.values == values { return .unchanged }
            objects[ref] = StoredObject(ref: ref, version: existing.version + 1, values: values)
            saves += 1
            return .updated
        }
        objects[ref] = StoredObject(ref: ref, version: 1, values: values)
        saves += 1
        return .created
    }

    func plannedOutcome(ref: ObjectRef, values: [ObjectValue]) -> SaveOutcome {
        guard let existing = objects[ref] else { return .created }
        return existing.values == values ? .unchanged : .updated
    }

    func delete(ref: ObjectRef, values: [ObjectValue]) -> SaveOutcome {
        guard let existing = objects.removeValue(forKey: ref) else { return .unchanged }
        deleted[ref] = StoredObject(ref: ref, version: existing.version + 1, values: values)
        return .deleted
    }

    func appendDocument(model: String, destination: String, record: String, values: JSONObject) {
        documents.append((model, destination, record, values))
    }
}

/// Runs a control file over records and collects the log, as the driver does.
struct EngineHarness {
    let repository = InMemoryRepository()
    var log: [String] = []
    var models = ModelRegistry(schema: StandardSchema.make())

    mutating func run(_ control: String, _ records: [String], dryRun: Bool = false) throws {
        var lines: [String] = []
        let batch = try ImportBatch(
            control: try JSONParser.parse(control),
            environment: EngineEnvironment(models: models, repository: repository),
            readers: ["json"], errorSink: { lines.append($0) })
        for record in records {
            let t = try batch.transform(try JSONParser.parse(record))
            if t.isComplete && !dryRun { _ = try t.commit() }
        }
        log += lines
    }

    func objects(ofType type: String) -> [StoredObject] {
        repository.objects.values.filter { $0.type == type }.sorted { $0.ref < $1.ref }
    }
}

func control(model: String = "haplo:person", _ instructions: String) -> String {
    """
    {"dataImportControlFileVersion": 0, "model": "\(model)", "files": {"data0": {"read": "json"}},
     "instructions": \(instructions)}
    """
}
