import Foundation
import IntakeApp
import IntakeCore
import IntakeRunner
import IntakeSQLite
import IntakeStore
import Testing

/// The first start's credentials, decided by the application layer without HTTP or a command line.
@Suite struct FirstStartCredentialsTests {
    private func service() throws -> ImportService {
        let directory = FileManager().temporaryDirectory.appendingPathComponent("intake-first-\(UUID().uuidString)")
        let environment = ImportEnvironment(
            store: try SQLiteBatchStore.inMemory(), blobs: try LocalBlobStorage(root: directory.appendingPathComponent("blobs")),
            models: ModelRegistry(schema: StandardSchema.make()))
        return ImportService(environment: environment)
    }

    @Test func madeOnceOnANewInstallation() async throws {
        let service = try service()
        guard case .created(let password, let key) = try await service.createFirstStartCredentials() else {
            Issue.record("nothing was created on an empty store")
            return
        }
        #expect(password.count == 24)
        let accounts = try await service.environment.store.adminAccounts()
        #expect(accounts.map(\.name) == ["admin"])
        let keys = try await service.environment.store.apiKeys()
        #expect(keys.count == 1 && keys.first?.scope == .all && keys.first?.name == "initial")
        #expect(!key.isEmpty && !keys.contains { "\($0)".contains(key) }, "the key is stored only as a hash")
        #expect(try await service.createFirstStartCredentials() == .notNeeded)
        #expect(try await service.environment.store.apiKeys().count == 1)
    }

    @Test func anInstallationWithKeysButNoAccountGetsNone() async throws {
        let service = try service()
        _ = try await service.createAPIKey(name: "script", scope: .all)
        #expect(try await service.createFirstStartCredentials() == .noAdminAccount)
        #expect(try await service.environment.store.adminAccounts().isEmpty)
    }
}
