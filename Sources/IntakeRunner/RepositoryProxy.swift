import IntakeCore
import IntakeStore

/// The engine keeps one repository for the whole batch; each chunk of records runs in its own
/// transaction, so this forwards to whichever transaction is open.
///
/// It also records what each record read from the store, with the answers (`StoreRead`), so that
/// a feed can tell later whether the same reads would answer the same (docs/feeds.md).
final class RepositoryProxy: ObjectRepository {
    var transaction: (any ImportTransaction)?
    /// The reads since `startRecording()`.
    private(set) var reads: [StoreRead] = []

    private func current() throws -> any ImportTransaction {
        guard let transaction else { throw ImportFatalError("No open transaction for the object store") }
        return transaction
    }

    func startRecording() { reads.removeAll(keepingCapacity: true) }

    func object(_ ref: ObjectRef) throws -> StoredObject? {
        reads.append(.object(ref))
        return try current().object(ref)
    }
    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) throws -> StoredObject? {
        // Which object links to another is not repeated cheaply: a record that asked is never skipped.
        reads.append(.unrepeatable)
        return try current().oldestObject(linkingTo: target, through: attribute, types: types)
    }
    func ref(forBehaviour code: String) throws -> ObjectRef? {
        let answer = try current().ref(forBehaviour: code)
        reads.append(.behaviour(code, answer))
        return answer
    }
    func noteCachedAnswer(behaviour code: String, ref: ObjectRef?) {
        reads.append(.behaviour(code, ref))
    }
    func ref(forUsername username: String) throws -> ObjectRef? {
        let answer = try current().ref(forUsername: username)
        reads.append(.username(username, answer))
        return answer
    }
    func allocateRef() throws -> ObjectRef { try current().allocateRef() }
    func titles(ofTypes types: Set<String>, limit: Int) throws -> [(title: String, ref: ObjectRef)]? {
        reads.append(.unrepeatable)
        return try current().titles(ofTypes: types, limit: limit)
    }
    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) throws -> SaveOutcome {
        try current().save(ref: ref, values: values, isNew: isNew)
    }
    func plannedOutcome(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome {
        try current().plannedOutcome(ref: ref, values: values)
    }
    func delete(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome {
        try current().delete(ref: ref, values: values)
    }
    func appendDocument(model: String, destination: String, record: String, values: JSONObject) throws {
        try current().appendDocument(model: model, destination: destination, record: record, values: values)
    }
}
