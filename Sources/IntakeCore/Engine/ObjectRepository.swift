/// An object as stored: identity, version and values.
package struct StoredObject: Sendable, Equatable {
    package var ref: ObjectRef
    package var version: Int
    package var values: [ObjectValue]

    package init(ref: ObjectRef, version: Int, values: [ObjectValue]) {
        self.ref = ref
        self.version = version
        self.values = values
    }

    /// The first `dc:attribute:type` value.
    package var type: String? {
        for v in values where v.attribute == StandardSchema.typeAttribute {
            if case .objectType(let code) = v.value { return code }
        }
        return nil
    }
}

/// What happened when an object was saved.
package enum SaveOutcome: Sendable, Equatable {
    case created
    case updated
    /// The values equal the stored version: nothing written, version not bumped.
    case unchanged
    /// A leaver's `delete`: a new version that marks the object deleted (docs/feeds.md).
    case deleted
}

/// The engine's window on the object store. Implementations do the I/O; the engine stays pure and
/// calls these synchronously, inside whatever transaction the driver opened for the record.
package protocol ObjectRepository: AnyObject {
    func object(_ ref: ObjectRef) throws -> StoredObject?
    /// The oldest object of one of `types` that links to `target` through `attribute`.
    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) throws -> StoredObject?
    func ref(forBehaviour code: String) throws -> ObjectRef?
    func ref(forUsername username: String) throws -> ObjectRef?
    /// Every title (alternatives included) of objects of these types, in creation order, or nil when
    /// there are more than `limit` such objects.
    func titles(ofTypes types: Set<String>, limit: Int) throws -> [(title: String, ref: ObjectRef)]?
    /// Pre-allocates the identity of a new object so others can link to it before it is saved.
    func allocateRef() throws -> ObjectRef
    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) throws -> SaveOutcome
    /// What saving these values over the stored object would do, without saving (dry runs).
    func plannedOutcome(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome
    /// Deletes a stored object: a new version with these values, marked deleted. A deleted object is
    /// no longer found by `object(_:)`, lookups, links or titles; only a rollback brings it back.
    /// Answers `.deleted`, or `.unchanged` when there is no such object (deleted already).
    func delete(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome
    func appendDocument(model: String, destination: String, record: String, values: JSONObject) throws
    /// Told when a behaviour lookup is answered from a cache rather than by the store, so that a
    /// repository that records what each record read (a feed's) sees it all the same.
    func noteCachedAnswer(behaviour code: String, ref: ObjectRef?)
}

extension ObjectRepository {
    package func noteCachedAnswer(behaviour code: String, ref: ObjectRef?) {}
}
