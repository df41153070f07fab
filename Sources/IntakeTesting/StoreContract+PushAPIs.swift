import Foundation
import IntakeStore

extension StoreContract {
    static func pushAPIs(_ fixture: any StoreFixture) async throws {
        let store = try await stores(fixture, "a")[0]
        let api = PushAPIRecord(
            name: "staff", description: "updates", enabled: true, response: .xml, control: controlDigest.hex, bodyLimit: 4096,
            created: start, updated: start)
        try await store.createPushAPI(api)
        try await expectThrows(StoreError.self, "a push API's name was taken twice") { try await store.createPushAPI(api) }
        try await store.createPushAPI(
            PushAPIRecord(
                name: "alpha", description: "", enabled: false, response: .json, control: controlDigest.hex, bodyLimit: 1, created: start,
                updated: start))
        try expect(try await store.pushAPI(named: "staff") == api, "a push API did not read back as written")
        try expect(try await store.pushAPIs().map(\.name) == ["alpha", "staff"], "push APIs are not listed by name")
        var changed = api
        (changed.enabled, changed.response, changed.bodyLimit, changed.description) = (false, .json, 10, "changed")
        changed.updated = start.addingTimeInterval(60)
        try expect(try await store.updatePushAPI(changed), "a push API could not be updated")
        try expect(try await store.pushAPI(named: "staff") == changed, "an update did not read back")
        var missing = changed
        missing.name = "missing"
        try expect(try await !store.updatePushAPI(missing), "an update of a missing push API said it updated")
        try expect(try await store.deletePushAPI(name: "staff"), "a push API could not be removed")
        try expect(try await !store.deletePushAPI(name: "staff"), "a removed push API was removed again")
        try expect(try await store.pushAPI(named: "staff") == nil, "a removed push API is still found")
    }
}
