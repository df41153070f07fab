import Foundation
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
        try await PostgresBatchStore(database: try PostgresDatabase(location: try PostgresLocation(url: url), poolSize: 4), lease: lease)
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
                        database: try PostgresDatabase(location: try PostgresLocation(url: url), poolSize: 2),
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
