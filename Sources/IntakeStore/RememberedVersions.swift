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
    }

    private var versions: [Int64: Version] = [:]
    static var limit: Int { 2_000 }

    package init() {}

    package subscript(ref: ObjectRef) -> Version? { versions[ref.number] }

    package mutating func remember(_ ref: ObjectRef, version: Int, data: Data) {
        if versions.count >= Self.limit { versions.removeAll(keepingCapacity: true) }
        versions[ref.number] = Version(number: version, data: data)
    }

    package mutating func forgetAll() { versions.removeAll() }
}
