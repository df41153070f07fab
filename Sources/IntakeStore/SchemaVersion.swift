import IntakeCore

/// Which schema a store holds, and whether this build of Intake may open it.
///
/// Each backend names its migrations `vN-what` and applies them in order; a store's schema is the
/// highest N among the migrations applied to it. A store holding a migration this build does not
/// know was written by a newer Intake: opening it would run old code over data it does not
/// understand, so the store refuses before it changes anything (`SchemaTooNew`). Each store also
/// records the version of Intake that last opened it (`writtenByKey` in its metadata table), so the
/// refusal can name it.
package enum SchemaVersion {
    /// The metadata key holding the version of Intake that last opened the store.
    package static let writtenByKey = "written-by"

    /// N of a migration named `vN-…` (or `vN`); nil for a name of another shape.
    package static func number(ofMigration name: String) -> Int? {
        guard name.hasPrefix("v") else { return nil }
        return Int(name.dropFirst().prefix { $0.isNumber })
    }

    /// The schema of a store that has `names` applied: the highest migration number.
    package static func schema(ofMigrations names: some Sequence<String>) -> Int {
        names.compactMap(number(ofMigration:)).max() ?? 0
    }

    /// Refuses a store that holds a migration this build does not know.
    /// - Parameters:
    ///   - applied: the migrations the store records as applied.
    ///   - known: the migrations this build has, in order.
    ///   - writtenBy: the version the store's metadata names, when it has one.
    ///   - place: "data directory" or "database", as the refusal names the store.
    package static func checkOpenable(applied: Set<String>, known: [String], writtenBy: String?, place: String) throws {
        guard !applied.isSubset(of: Set(known)) else { return }
        throw SchemaTooNew(
            place: place, writtenBy: writtenBy, storedSchema: schema(ofMigrations: applied), knownSchema: schema(ofMigrations: known))
    }
}

/// A store written by a newer Intake than this one. Nothing was changed.
package struct SchemaTooNew: Error, Sendable, CustomStringConvertible, Equatable {
    package let place: String
    package let writtenBy: String?
    package let storedSchema: Int
    package let knownSchema: Int

    package init(place: String, writtenBy: String?, storedSchema: Int, knownSchema: Int) {
        self.place = place
        self.writtenBy = writtenBy
        self.storedSchema = storedSchema
        self.knownSchema = knownSchema
    }

    package var description: String {
        let writer = writtenBy.map { "Intake \($0)" } ?? "a newer Intake"
        return "This \(place) was written by \(writer) (schema v\(storedSchema)); this is Intake \(IntakeVersion.current), "
            + "which knows schema v\(knownSchema). Upgrade Intake, or restore a backup made before the upgrade."
    }
}
