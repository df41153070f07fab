/// The `ref` data type with optional `refMapping` (docs/control-files.md#refs-and-mappings).
enum RefMapping {
    static func makeConverter(instruction: JSONObject, details d: String, batch: ImportBatch) -> DataTypeConverters.Convert {
        let refsOnly: DataTypeConverters.Convert = { value, _ in
            if case .ref(let r) = value { return .ref(r) }
            return nil
        }
        guard let nameValue = instruction["refMapping"], !nameValue.isMissing else { return refsOnly }
        let name = nameValue.jsForm
        guard case .object(let mapping)? = batch.control["mapping"]?[name] else {
            batch.reportPreparation("Unknown mapping: \(name)")
            return refsOnly
        }
        let values = mapping["values"]?.objectValue ?? JSONObject()
        switch mapping["using"] {
        case .string("behaviour")?:
            var cache: [ExactKey: ObjectRef] = [:]
            return { value, batch in
                if case .ref(let r) = value { return .ref(r) }
                let key = value.jsForm
                guard let code = values[key] else {
                    batch.report("Value in input data cannot be mapped for \(d): \(key)")
                    return nil
                }
                let behaviour = code.jsForm
                if let ref = cache[ExactKey(behaviour)] {
                    batch.repository.noteCachedAnswer(behaviour: behaviour, ref: ref)
                    return .ref(ref)
                }
                guard let ref = try batch.repository.ref(forBehaviour: behaviour) else {
                    throw ImportFatalError("Unknown behaviour in mapping \(name): \(behaviour)")
                }
                cache[ExactKey(behaviour)] = ref
                return .ref(ref)
            }
        case .string("title")?:
            guard let index = titleIndex(mapping, name: name, batch: batch) else { return refsOnly }
            return { value, batch in
                if case .ref(let r) = value { return .ref(r) }
                let key = value.jsForm
                guard let title = values[key] else { return nil }
                batch.titleMappingUses += 1
                guard let ref = index[ExactKey(title.jsForm)] else {
                    batch.report("Value in input data cannot be mapped for \(d): \(key)")
                    return nil
                }
                return .ref(ref)
            }
        default:
            // Any other `using` means "no refMapping", without a message (compat).
            return refsOnly
        }
    }

    static let titleMappingLimit = 4096

    /// Builds the title → ref index of a title mapping, or reports why there is none.
    private static func titleIndex(_ mapping: JSONObject, name: String, batch: ImportBatch) -> [ExactKey: ObjectRef]? {
        guard case .array(let codes)? = mapping["types"] else {
            batch.reportPreparation("Mapping \(name) does not specify types")
            return nil
        }
        var types: Set<String> = []
        for code in codes.map(\.jsForm) {
            if batch.schema.types[code] == nil {
                batch.reportPreparation("Mapping \(name) refers to unknown type \(code)")
            } else {
                types.formUnion(batch.schema.typeWithSubtypes(code))
            }
        }
        guard !types.isEmpty else {
            batch.reportPreparation("No types for mapping \(name)")
            return nil
        }
        let titles: [(title: String, ref: ObjectRef)]?
        do {
            titles = try batch.repository.titles(ofTypes: types, limit: titleMappingLimit)
        } catch {
            batch.reportPreparation("Mapping \(name) could not read titles from the store: \(error)")
            return nil
        }
        guard let titles else {
            batch.reportPreparation("Mapping \(name) uses title mapping, but too many objects in store to use this method.")
            return nil
        }
        var index: [ExactKey: ObjectRef] = [:]
        for (title, ref) in titles { index[ExactKey(title)] = ref }  // later objects win
        return index
    }
}
