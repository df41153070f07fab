/// A named, ordered set of destinations (CONTROL-FILE.md §7).
public struct Model: Sendable {
    public var name: String
    public var title: String
    public var description: String
    /// Declaration order, pseudo-destinations last.
    public var destinations: [Destination]

    public func destination(_ name: String) -> Destination? {
        destinations.first { $0.name == name }
    }

    /// Whether targets of this destination are committed: it exists and is not a pseudo-destination.
    public func isCommitted(_ name: String) -> Bool {
        for d in destinations where d.name == name { return !d.pseudo }
        return false
    }
}

/// A destination of a model: a kind of store object or a dictionary.
///
/// A value type whose fields live in one shared box: the engine looks destinations up several times
/// per record, and copying a dozen fields (with a retain each) every time showed up in profiles.
public struct Destination: Sendable {
    public enum Kind: String, Sendable { case object, dictionary }

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

        init(name: String, title: String, kind: Kind, optional: Bool, depends: String?, pseudo: Bool, objectType: String?,
             annotatedTypes: String?, objectDependsWithAttribute: String?, acceptedTypes: Set<String>,
             names: [String: NameDefinition], nameOrder: [String]) {
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
            Fields(name: name, title: title, kind: kind, optional: optional, depends: depends, pseudo: pseudo,
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

    public var name: String { get { fields.name } set { uniqueFields.name = newValue } }
    public var title: String { get { fields.title } set { uniqueFields.title = newValue } }
    public var kind: Kind { get { fields.kind } set { uniqueFields.kind = newValue } }
    public var optional: Bool { get { fields.optional } set { uniqueFields.optional = newValue } }
    public var depends: String? { get { fields.depends } set { uniqueFields.depends = newValue } }
    public var pseudo: Bool { get { fields.pseudo } set { uniqueFields.pseudo = newValue } }
    public var objectType: String? { get { fields.objectType } set { uniqueFields.objectType = newValue } }
    public var annotatedTypes: String? { get { fields.annotatedTypes } set { uniqueFields.annotatedTypes = newValue } }
    public var objectDependsWithAttribute: String? {
        get { fields.objectDependsWithAttribute } set { uniqueFields.objectDependsWithAttribute = newValue }
    }
    /// Store types an object of this destination may have (objectType with subtypes, or the annotated types).
    public var acceptedTypes: Set<String> { get { fields.acceptedTypes } set { uniqueFields.acceptedTypes = newValue } }
    public var names: [String: NameDefinition] { get { fields.names } set { uniqueFields.names = newValue } }
    public var nameOrder: [String] { get { fields.nameOrder } set { uniqueFields.nameOrder = newValue } }

    public init(name: String, title: String? = nil, kind: Kind, optional: Bool = false, depends: String? = nil,
                pseudo: Bool = false, objectType: String? = nil, annotatedTypes: String? = nil,
                objectDependsWithAttribute: String? = nil, acceptedTypes: Set<String> = [], names: [NameDefinition]) {
        fields = Fields(name: name, title: title ?? name, kind: kind, optional: optional, depends: depends, pseudo: pseudo,
                        objectType: objectType, annotatedTypes: annotatedTypes,
                        objectDependsWithAttribute: objectDependsWithAttribute, acceptedTypes: acceptedTypes,
                        names: Dictionary(names.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last }),
                        nameOrder: names.map(\.name))
    }

    public func name(_ name: String) -> NameDefinition? { names[name] }
}
