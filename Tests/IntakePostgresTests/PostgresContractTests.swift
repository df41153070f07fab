import Foundation
import IntakeCore
import IntakePostgres
import IntakeStore
import IntakeTesting
import Testing

/// The PostgreSQL backend against the store contract: one new database per case, one store (with
/// its own connection pool) per simulated node.
struct PostgresFixture: StoreFixture {
    let url: String

    init() async throws {
        url = try await TestPostgres.newDatabaseURL()
    }

    func makeStore(lease: JobLease) async throws -> any BatchStore {
        try await PostgresBatchStore(database: try TestPostgres.database(url: url, poolSize: 2), lease: lease)
    }
}

@Suite struct PostgresStoreContractTests {
    @Test(arguments: StoreContract.cases)
    func postgresPasses(_ contractCase: StoreContract.Case) async throws {
        try await contractCase.check(try await PostgresFixture())
    }
}

@Suite struct PostgresBlobStorageContractTests {
    @Test(arguments: BlobStorageContract.cases)
    func databaseBlobsPass(_ contractCase: BlobStorageContract.Case) async throws {
        let (_, blobs) = try await TestPostgres.newStore()
        try await contractCase.check(blobs)
    }
}

/// What only the PostgreSQL backend has to do.
@Suite struct PostgresStartupTests {
    /// Nodes starting together on a new database: one applies the migrations under the advisory
    /// lock, the others wait and find them applied; all of them work.
    @Test func nodesStartingTogetherMigrateOnce() async throws {
        let url = try await TestPostgres.newDatabaseURL()
        let stores = try await withThrowingTaskGroup(of: PostgresBatchStore.self) { group in
            for node in 0..<6 {
                group.addTask {
                    try await PostgresBatchStore(
                        database: try TestPostgres.database(url: url, poolSize: 2),
                        lease: JobLease(owner: "node\(node) 1 x"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 6)
        for (index, store) in stores.enumerated() {
            try await store.setSetting("node\(index)", "up")
        }
        #expect(try await stores[0].setting("node5") == "up")
    }

    @Test func databaseURLsAreReadLikeLibpq() throws {
        let full = try PostgresLocation(url: "postgres://ada:s%40cret@db.example.ac.uk:6543/intake?sslmode=require", environment: [:])
        #expect(full.host == "db.example.ac.uk" && full.port == 6543 && full.user == "ada" && full.password == "s@cret")
        #expect(full.database == "intake" && full.sslMode == "require")
        #expect(full.description == "postgres://ada@db.example.ac.uk:6543/intake")
        let short = try PostgresLocation(url: "postgresql://intake@localhost", environment: ["PGPASSWORD": "from-env"])
        #expect(short.port == 5432 && short.database == "intake" && short.password == "from-env" && short.sslMode == "prefer")
        #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: "mysql://x@y/z", environment: [:]) }
        #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: "postgres://x@y/z?sslmode=verify-full", environment: [:]) }
    }
}

/// Two nodes' chunks saving the same object at the same moment take turns.
@Suite struct PostgresConcurrentSaveTests {
    static func title(_ text: String) -> [ObjectValue] {
        [ObjectValue(attribute: StandardSchema.titleAttribute, value: .text(.text, text))]
    }

    @Test func twoWritersUpdatingOneObjectTakeTurns() async throws {
        let url = try await TestPostgres.newDatabaseURL()
        func store(_ name: String) async throws -> PostgresBatchStore {
            try await PostgresBatchStore(
                database: try TestPostgres.database(url: url, poolSize: 2), lease: JobLease(owner: "otherhost 1 \(name)"))
        }
        let a = try await store("a"), b = try await store("b")
        let now = Date()
        let ref = try a.inImportTransaction(batch: .random(), now: now) { tx in
            let ref = try tx.allocateRef()
            _ = try tx.save(ref: ref, values: Self.title("one"), isNew: true)
            return ref
        }
        let firstSaved = DispatchSemaphore(value: 0)
        let first = Task.detached {
            try a.inImportTransaction(batch: .random(), now: now) { tx in
                _ = try tx.save(ref: ref, values: Self.title("two"), isNew: false)
                firstSaved.signal()
                Thread.sleep(forTimeInterval: 0.5)  // the second writer arrives while this one holds the object
            }
        }
        let second = Task.detached {
            firstSaved.wait()
            return try b.inImportTransaction(batch: .random(), now: now) { tx in try tx.save(ref: ref, values: Self.title("three"), isNew: false) }
        }
        try await first.value
        #expect(try await second.value == .updated)
        let history = try await a.history(of: ref)
        #expect(history.map(\.version) == [1, 2, 3])
        #expect(try await a.object(ref)?.title == "three")
    }
}
