import Foundation
import IntakeSQLite
import IntakeStore
import IntakeTesting
import Testing

/// The SQLite backend against the store contract: one database file per case, one store per
/// simulated process.
struct SQLiteFixture: StoreFixture {
    let path: String

    init() throws {
        let directory = FileManager().temporaryDirectory.appendingPathComponent("intake-contract-\(UUID().uuidString)")
        try FileManager().createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("intake.sqlite").path
    }

    func makeStore(lease: JobLease) async throws -> any BatchStore {
        try SQLiteBatchStore(path: path, lease: lease)
    }
}

@Suite struct StoreContractTests {
    @Test(arguments: StoreContract.cases)
    func sqlitePasses(_ contractCase: StoreContract.Case) async throws {
        try await contractCase.check(try SQLiteFixture())
    }
}

/// Blobs kept as files in a temporary folder, against the blob storage contract.
@Suite struct BlobStorageContractTests {
    @Test(arguments: BlobStorageContract.cases)
    func localFilesPass(_ contractCase: BlobStorageContract.Case) async throws {
        let root = FileManager().temporaryDirectory.appendingPathComponent("intake-blobs-\(UUID().uuidString)")
        defer { try? FileManager().removeItem(at: root) }
        try await contractCase.check(try LocalBlobStorage(root: root))
    }
}
