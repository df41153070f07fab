import Foundation

/// How a push API answers: as the original's "REST APIs for data push" did, JSON or XML.
package enum PushResponseFormat: String, Sendable, CaseIterable {
    case json, xml
}

/// A push API (docs/push-apis.md): a named endpoint, `POST /api/push-data/NAME`, that runs its
/// control file over the request body as a batch, synchronously.
package struct PushAPIRecord: Sendable, Equatable {
    /// The URL name: fixed once created, `[a-z0-9-]+`.
    package var name: String
    package var description: String
    package var enabled: Bool
    package var response: PushResponseFormat
    /// The digest of its control file, one of the uploaded control files.
    package var control: String
    /// The largest request body it takes, in bytes.
    package var bodyLimit: Int
    package var created: Date
    package var updated: Date

    package init(
        name: String, description: String, enabled: Bool, response: PushResponseFormat, control: String, bodyLimit: Int, created: Date,
        updated: Date
    ) {
        self.name = name
        self.description = description
        self.enabled = enabled
        self.response = response
        self.control = control
        self.bodyLimit = bodyLimit
        self.created = created
        self.updated = updated
    }
}

package protocol PushAPIStore: Sendable {
    /// - Throws: `StoreError.pushAPIExists` when the name is taken.
    func createPushAPI(_ api: PushAPIRecord) async throws
    /// Replaces everything but the name and creation time; false when there is no such API.
    func updatePushAPI(_ api: PushAPIRecord) async throws -> Bool
    /// Every push API, by name.
    func pushAPIs() async throws -> [PushAPIRecord]
    func pushAPI(named name: String) async throws -> PushAPIRecord?
    /// False when there is no such API.
    func deletePushAPI(name: String) async throws -> Bool
}
