/// The `ref` data type with optional `refMapping` (CONTROL-FILE.md §5.4).
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
            var cache: [String: ObjectRef] = [:]
            return { value, batch in
                if case .ref(let r) = value { return .ref(r) }
                let key = value.jsForm
                guard let code = values[key] else {
                    batch.report("Value in input data cannot be mapped for \(d): \(key)")
                    return nil
                }
                let behaviour = code.jsForm
                if let ref = cache[behaviour] { return .ref(ref) }
                guard let ref = try batch.repository.ref(forBehaviour: behaviour) else {
                    throw ImportFatalError("Unknown behaviour in mapping \(name): \(behaviour)")
                }
                cache[behaviour] = ref
                return .ref(ref)
            }
        default:
            // `title` mapping needs a title index from the store; until it exists such mappings act as
            // "no refMapping", which is also the documented behaviour for any other `using` value.
            return refsOnly
        }
    }
}
