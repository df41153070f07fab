/// The editable object behind an object destination for the current record.
package final class ObjectTarget {
    /// Nil until the object is saved or another target links to it.
    package var ref: ObjectRef?
    package let isNew: Bool
    package var values: [ObjectValue]
    /// The stored values a loaded object started from: a save's diff is against them.
    package let original: [ObjectValue]
    /// A leaver's `delete` ran on it: the commit deletes it rather than saving it.
    var isDeleting = false

    init(ref: ObjectRef? = nil, isNew: Bool, values: [ObjectValue] = []) {
        self.ref = ref
        self.isNew = isNew
        self.values = values
        self.original = isNew ? [] : values
    }

    func hasValue(_ attribute: String) -> Bool {
        values.contains { $0.attribute == attribute }
    }

    var type: String? {
        for v in values where v.attribute == StandardSchema.typeAttribute {
            if case .objectType(let code) = v.value { return code }
        }
        return nil
    }
}

/// One entry of a dictionary target: a single value, or the list of a multivalue Name.
package enum DictionaryEntry: Sendable, Equatable {
    case single(AttributeValue)
    case multiple([AttributeValue])

    var plainJSON: JSONValue {
        switch self {
        case .single(let v): return AttributeValueCoding.plainJSON(v)
        case .multiple(let vs): return .array(vs.map(AttributeValueCoding.plainJSON))
        }
    }
}

/// The ordered dictionary behind a dictionary destination; keeps the order Names were first set.
package final class DictionaryTarget {
    package private(set) var keys: [String] = []
    package private(set) var entries: [DictionaryEntry] = []

    init() {}

    subscript(key: String) -> DictionaryEntry? {
        get { keys.firstIndex(of: key).map { entries[$0] } }
        set {
            if let i = keys.firstIndex(of: key) {
                if let newValue { entries[i] = newValue } else { keys.remove(at: i); entries.remove(at: i) }
            } else if let newValue {
                keys.append(key)
                entries.append(newValue)
            }
        }
    }

    var isEmpty: Bool { keys.isEmpty }

    /// The compact JSON form used in messages and stored documents.
    package var plainJSON: JSONObject {
        var o = JSONObject()
        for (k, e) in zip(keys, entries) { o[k] = e.plainJSON }
        return o
    }
}

enum Target {
    case object(ObjectTarget)
    case dictionary(DictionaryTarget)

    static func blank(for destination: Destination) -> Target {
        destination.kind == .object ? .object(ObjectTarget(isNew: true)) : .dictionary(DictionaryTarget())
    }
}
