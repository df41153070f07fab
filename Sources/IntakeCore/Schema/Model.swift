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
}

/// A destination of a model: a kind of store object or a dictionary.
public struct Destination: Sendable {
    public enum Kind: String, Sendable { case object, dictionary }

    public var name: String
    public var title: String
    public var kind: Kind
    public var optional: Bool
    public var depends: String?
    public var pseudo: Bool
    public var objectType: String?
    public var annotatedTypes: String?
    public var objectDependsWithAttribute: String?
    /// Store types an object of this destination may have (objectType with subtypes, or the annotated types).
    public var acceptedTypes: Set<String>
    public var names: [String: NameDefinition]
    public var nameOrder: [String]

    public init(name: String, title: String? = nil, kind: Kind, optional: Bool = false, depends: String? = nil,
                pseudo: Bool = false, objectType: String? = nil, annotatedTypes: String? = nil,
                objectDependsWithAttribute: String? = nil, acceptedTypes: Set<String> = [], names: [NameDefinition]) {
        self.name = name
        self.title = title ?? name
        self.kind = kind
        self.optional = optional
        self.depends = depends
        self.pseudo = pseudo
        self.objectType = objectType
        self.annotatedTypes = annotatedTypes
        self.objectDependsWithAttribute = objectDependsWithAttribute
        self.acceptedTypes = acceptedTypes
        self.names = Dictionary(names.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.nameOrder = names.map(\.name)
    }

    public func name(_ name: String) -> NameDefinition? { names[name] }
}
