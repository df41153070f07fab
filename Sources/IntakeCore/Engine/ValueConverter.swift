/// Converts one input value for one instruction: generic mapping, then filters, then the data type
/// (docs/control-files.md#values). Built once during preparation.
final class ValueConverter {
    let mapInputValue: JSONObject?
    let mapInputValueDefault: JSONValue?
    let filters: [any ValueFilter]
    let convertDataType: (FilterValue, ImportBatch) throws -> AttributeValue?

    init(
        mapInputValue: JSONObject?, mapInputValueDefault: JSONValue?, filters: [any ValueFilter],
        convertDataType: @escaping (FilterValue, ImportBatch) throws -> AttributeValue?
    ) {
        self.mapInputValue = mapInputValue
        self.mapInputValueDefault = mapInputValueDefault
        self.filters = filters
        self.convertDataType = convertDataType
    }

    func convert(_ input: JSONValue, batch: ImportBatch) throws -> AttributeValue? {
        var value = input
        if let mapInputValue {
            switch value {
            case .array, .object: if let d = mapInputValueDefault { value = d }
            default:
                if let mapped = mapInputValue[value.jsForm] {
                    value = mapped
                } else if let d = mapInputValueDefault {
                    value = d
                }
            }
            if case .null = value { return nil }
        }
        var filtered = FilterValue.json(value)
        for filter in filters {
            guard let next = try filter.apply(filtered, repository: batch.repository), !next.isNull else { return nil }
            filtered = next
        }
        return try convertDataType(filtered, batch)
    }
}
