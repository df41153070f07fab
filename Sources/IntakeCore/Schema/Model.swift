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

    private final class Fields: @unchecked Sendable {
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

        init(
            name: String, title: String, kind: Kind, optional: Bool, depends: String?, pseudo: Bool, objectType: String?,
            annotatedTypes: String?, objectDependsWithAttribute: String?, acceptedTypes: Set<String>,
            names: [String: NameDefinition], nameOrder: [String]
        ) {
            self.name = name
            self.title = title
            self.kind = kind
            self.optional = optional
            self.depends = depends
            self.pseudo = pseudo
            self.objectType = objectType
            self.annotatedTypes = annotatedTypes
            self.objectDependsWithAttribute = objectDependsWithAttribute
            self.acceptedTypes = acceptedTypes
            self.names = names
            self.nameOrder = nameOrder
        }

        func copy() -> Fields {
            Fields(
                name: name, title: title, kind: kind, optional: optional, depends: depends, pseudo: pseudo,
                objectType: objectType, annotatedTypes: annotatedTypes, objectDependsWithAttribute: objectDependsWithAttribute,
                acceptedTypes: acceptedTypes, names: names, nameOrder: nameOrder)
        }
    }

    private var fields: Fields

    /// The box, copied first if another Destination shares it.
    private var uniqueFields: Fields {
        mutating get {
            if !isKnownUniquelyReferenced(&fields) { fields = fields.copy() }
            return fields
        }
    }

    package var name: String {
        get { fields.name }
        set { uniqueFields.name = newValue }
    }
    package var title: String {
        get { fields.title }
        set { uniqueFields.title = newValue }
    }
    package var kind: Kind {
        get { fields.kind }
        set { uniqueFields.kind = newValue }
    }
    package var optional: Bool {
        get { fields.optional }
        set { uniqueFields.optional = newValue }
    }
    package var depends: String? {
        get { fields.depends }
        set { uniqueFields.depends = newValue }
    }
    package var pseudo: Bool {
        get { fields.pseudo }
        set { uniqueFields.pseudo = newValue }
    }
    package var objectType: String? {
        get { fields.objectType }
        set { uniqueFields.objectType = newValue }
    }
    package var annotatedTypes: String? {
        get { fields.annotatedTypes }
        set { uniqueFields.annotatedTypes = newValue }
    }
    package var objectDependsWithAttribute: String? {
        get { fields.objectDependsWithAttribute }
        set { uniqueFields.objectDependsWithAttribute = newValue }
    }
    /// Store types an object of this destination may have (objectType with subtypes, or the annotated types).
    package var acceptedTypes: Set<String> {
        get { fields.acceptedTypes }
        set { uniqueFields.acceptedTypes = newValue }
    }
    package var names: [String: NameDefinition] {
        get { fields.names }
        set { uniqueFields.names = newValue }
    }
    package var nameOrder: [String] {
        get { fields.nameOrder }
        set { uniqueFields.nameOrder = newValue }
    }

    package init(
        name: String, title: String? = nil, kind: Kind, optional: Bool = false, depends: String? = nil,
        pseudo: Bool = false, objectType: String? = nil, annotatedTypes: String? = nil,
        objectDependsWithAttribute: String? = nil, acceptedTypes: Set<String> = [], names: [NameDefinition]
    ) {
        fields = Fields(
            name: name, title: title ?? name, kind: kind, optional: optional, depends: depends, pseudo: pseudo,
            objectType: objectType, annotatedTypes: annotatedTypes,
            objectDependsWithAttribute: objectDependsWithAttribute, acceptedTypes: acceptedTypes,
            names: Dictionary(names.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }),
            nameOrder: names.map(\.name))
    }

    package func name(_ name: String) -> NameDefinition? { names[name] }
}
