import IntakeCore

/// Current versions an import transaction has read or written, by ref, so that the load after a
/// lookup and the comparison a save makes need no query of their own (a nightly re-import does all
/// three for every record). `Data` is the stored values as the backend holds them.
///
/// Bounded: emptied when full, and by the transaction when a record's savepoint rolls back (what
/// the record saved is undone).
package struct RememberedVersions<Data> {
    package struct Version {
        package var number: Int
        package var data: Data
        /// The values `data` decodes to, once a load has decoded them or a save has written them: a
        /// save of the same values is then found unchanged without encoding them (a loaded object
        /// set to what it holds stays equal to what was loaded; equal values encode alike).
        package var values: [ObjectValue]?
    }

    private var versions: [Int64: Version] = [:]
    static var limit: Int { 2_000 }

    package init() {}

    package subscript(ref: ObjectRef) -> Version? { versions[ref.number] }

    package mutating func remember(_ ref: ObjectRef, version: Int, data: Data, values: [ObjectValue]? = nil) {
        if versions.count >= Self.limit { versions.removeAll(keepingCapacity: true) }
        versions[ref.number] = Version(number: version, data: data, values: values)
    }

    /// The current values of a remembered version, decoded with `decode` the first time.
    package mutating func values(of ref: ObjectRef, decode: (Data) -> [ObjectValue]) -> (version: Int, values: [ObjectValue])? {
        guard let seen = versions[ref.number] else { return nil }
        if let values = seen.values { return (seen.number, values) }
        let values = decode(seen.data)
        versions[ref.number]!.values = values
        return (seen.number, values)
    }

    /// Whether saving `values` would leave the remembered version as it is, found without encoding
    /// them; false means "not known", and the encoded forms decide.
    package func isUnchanged(_ ref: ObjectRef, by values: [ObjectValue]) -> Bool {
        guard let known = versions[ref.number]?.values else { return false }
        return known == values
    }

    package mutating func forget(_ ref: ObjectRef) { versions[ref.number] = nil }

    package mutating func forgetAll() { versions.removeAll() }
}
