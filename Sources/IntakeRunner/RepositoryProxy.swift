import IntakeCore
import IntakeStore

/// The engine keeps one repository for the whole batch; each chunk of records runs in its own
/// transaction, so this forwards to whichever transaction is open.
final class RepositoryProxy: ObjectRepository {
    var transaction: (any ImportTransaction)?

    private func current() throws -> any ImportTransaction {
        guard let transaction else { throw ImportFatalError("No open transaction for the object store") }
        return transaction
    }

    func object(_ ref: ObjectRef) throws -> StoredObject? { try current().object(ref) }
    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) throws -> StoredObject? {
        try current().oldestObject(linkingTo: target, through: attribute, types: types)
    }
    func ref(forBehaviour code: String) throws -> ObjectRef? { try current().ref(forBehaviour: code) }
    func ref(forUsername username: String) throws -> ObjectRef? { try current().ref(forUsername: username) }
    func allocateRef() throws -> ObjectRef { try current().allocateRef() }
    func titles(ofTypes types: Set<String>, limit: Int) throws -> [(title: String, ref: ObjectRef)]? {
        try current().titles(ofTypes: types, limit: limit)
    }
    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) throws -> SaveOutcome {
        try current().save(ref: ref, values: values, isNew: isNew)
    }
    func appendDocument(model: String, destination: String, record: String, values: JSONObject) throws {
        try current().appendDocument(model: model, destination: destination, record: record, values: values)
    }
}
