/// A model as written in a schema file (SCHEMA.md "Models in schema files").
public struct ModelDefinition: Sendable, Equatable {
    public var name: String
    public var description: String
    public var destinations: [DestinationDefinition]

    public init(name: String, description: String, destinations: [DestinationDefinition]) {
        self.name = name
        self.description = description
        self.destinations = destinations
    }
}

public struct DestinationDefinition: Sendable, Equatable {
    public enum Kind: String, Sendable { case object, dictionary }

    public var name: String
    public var kind: Kind
    public var title: String?
    public var optional: Bool = false
    /// Never checked or committed; only gathers values (e.g. the members of an attribute group).
    public var pseudo: Bool = false
    public var depends: String?
    public var objectType: String?
    public var annotatedTypes: String?
    public var objectDependsWithAttribute: String?
    public var without: [String] = []
    /// Attribute code → Name properties (`type`, `required`, `multivalue`, `description`) merged over
    /// the generated ones.
    public var objectAttributesOverride: [String: JSONObject] = [:]
    public var dictionaryNames: [NameDefinition] = []

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// A Name of a destination (CONTROL-FILE.md §1): a typed slot, an attribute code or dictionary key.
public struct NameDefinition: Sendable, Equatable {
    public var name: String
    public var dataType: DataType
    public var multivalue: Bool
    public var required: Bool
    public var description: String

    public init(name: String, dataType: DataType, multivalue: Bool = false, required: Bool = false, description: String = "") {
        self.name = name
        self.dataType = dataType
        self.multivalue = multivalue
        self.required = required
        self.description = description
    }
}
