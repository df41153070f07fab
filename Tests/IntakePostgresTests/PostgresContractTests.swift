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
