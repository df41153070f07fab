/// A named, ordered set of destinations (docs/control-files.md §7).
package struct Model: Sendable {
    package var name: String
    package var title: String
    package var description: String
    /// Declaration order, pseudo-destinations last.
    package var destinations: [Destination]

    package func destination(_ name: String) -> Destination? {
        destinations.first { $0.name == name }
    }

    /// Whether targets of this destination are committed: it exists and is not a pseudo-destination.
    package func isCommitted(_ name: String) -> Bool {
        for d in destinations where d.name == name { return !d.pseudo }
        return false
    }
}

/// A destination of a model: a kind of store object or a dictionary.
///
/// A value type whose fields live in one shared box: the engine looks destinations up several times
/// per record, and copying a dozen fields (with a retain each) every time showed up in profiles.
package struct Destination: Sendable {
    package enum Kind: String, Sendable { case object, dictionary }

    private struct Fields: Sendable {
        var name: String
        var title: String
        var kind: Kind
        var optional: Bool
        var depends: String?
        var pseudo: Bool
        var objectType: String?
        var annotatedTypes: String?
        var objectDependsWithAttribute: String?
        var acceptedTypes: Set<String>
        var names: [String: NameDefinition]
        var nameOrder: [String]
    }

    /// The fields in an immutable box, shared by copies; a change makes a new box (destinations
    /// change while a schema is built, never per record).
    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box
    private mutating func update(_ change: (inout Fields) -> Void) {
        var fields = box.fields
        change(&fields)
        box = Box(fields)
    }

    package var name: String {
        get { box.fields.name }
        set { update { $0.name = newValue } }
    }
    package var title: String {
        get { box.fields.title }
        set { update { $0.title = newValue } }
    }
    package var kind: Kind {
        get { box.fields.kind }
        set { update { $0.kind = newValue } }
    }
    package var optional: Bool {
        get { box.fields.optional }
        set { update { $0.optional = newValue } }
    }
    package var depends: String? {
        get { box.fields.depends }
        set { update { $0.depends = newValue } }
    }
    package var pseudo: Bool {
        get { box.fields.pseudo }
        set { update { $0.pseudo = newValue } }
    }
    package var objectType: String? {
        get { box.fields.objectType }
        set { update { $0.objectType = newValue } }
    }
    package var annotatedTypes: String? {
        get { box.fields.annotatedTypes }
        set { update { $0.annotatedTypes = newValue } }
    }
    package var objectDependsWithAttribute: String? {
        get { box.fields.objectDependsWithAttribute }
        set { update { $0.objectDependsWithAttribute = newValue } }
    }
    /// Store types an object of this destination may have (objectType with subtypes, or the annotated types).
    package var acceptedTypes: Set<String> {
        get { box.fields.acceptedTypes }
        set { update { $0.acceptedTypes = newValue } }
    }
    package var names: [String: NameDefinition] {
        get { box.fields.names }
        set { update { $0.names = newValue } }
    }
    package var nameOrder: [String] {
        get { box.fields.nameOrder }
        set { update { $0.nameOrder = newValue } }
    }

    package init(
        name: String, title: String? = nil, kind: Kind, optional: Bool = false, depends: String? = nil,
        pseudo: Bool = false, objectType: String? = nil, annotatedTypes: String? = nil,
        objectDependsWithAttribute: String? = nil, acceptedTypes: Set<String> = [], names: [NameDefinition]
    ) {
        box = Box(
            Fields(
                name: name, title: title ?? name, kind: kind, optional: optional, depends: depends, pseudo: pseudo,
                objectType: objectType, annotatedTypes: annotatedTypes,
                objectDependsWithAttribute: objectDependsWithAttribute, acceptedTypes: acceptedTypes,
                names: Dictionary(names.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }),
                nameOrder: names.map(\.name)))
    }

    package func name(_ name: String) -> NameDefinition? { names[name] }
}
