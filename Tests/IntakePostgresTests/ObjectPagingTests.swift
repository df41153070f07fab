import Foundation
import IntakeCore
import IntakeStore
import IntakeTesting
import Testing

@testable import IntakePostgres

/// A page of objects of some types costs about a thousand buffers however many objects there are: each
/// type's index is read in ref order. One filter over all the types made PostgreSQL read every
/// matching object and sort them (710 ms a page at 2M objects; here some 400,000 buffers, each
/// match looked up in object_versions); counted in buffers, not timed.
@Suite struct ObjectPagingTests {
    @Test func aPageOfSomeTypesReadsOnlyWhatItReturns() async throws {
        let (store, _) = try await TestPostgres.newStore()
        // 300,000 objects of three types, written straight into the tables.
        try await store.database.query(
            """
            INSERT INTO objects (ref, type, title, titles, version, created, updated)
            SELECT g, (ARRAY['std:type:person', 'std:type:person:staff', 'std:type:book'])[g % 3 + 1], 'T' || g, 'T' || g, 1, 0, 0
            FROM generate_series(100000, 399999) g
            """)
        try await store.database.query(
            "INSERT INTO object_versions (ref, version, batch, saved, data) SELECT ref, 1, NULL, 0, '[]' FROM objects WHERE ref >= 100000")
        // No ANALYZE: a table filled by an import moments ago has no statistics yet, and that is when
        // the one-filter query chose to collect and sort every match.
        let types: Set<String> = ["std:type:person", "std:type:person:staff"]
        let page = try await store.objects(types: types, title: nil, after: ObjectRef(200_000), limit: 100)
        #expect(page.count == 100)
        #expect(page.allSatisfy { types.contains($0.type ?? "") && $0.ref.number > 200_000 })
        #expect(page.map(\.ref.number) == page.map(\.ref.number).sorted())
        let buffers = try await store.buffersForObjectsPage(types: types, after: ObjectRef(200_000), limit: 100)
        #expect(buffers < 5_000, "a page of 100 objects touched \(buffers) buffers")
    }
}
