/// A model as written in a schema file (docs/schema.md "Models in schema files").
package struct ModelDefinition: Sendable, Equatable {
    package var name: String
    package var description: String
    package var destinations: [DestinationDefinition]

    package init(name: String, description: String, destinations: [DestinationDefinition]) {
        self.name = name
        self.description = description
        self.destinations = destinations
    }
}

package struct DestinationDefinition: Sendable, Equatable {
    package enum Kind: String, Sendable { case object, dictionary }

    package var name: String
    package var kind: Kind
    package var title: String?
    package var optional: Bool = false
    /// Never checked or committed; only gathers values (e.g. the members of an attribute group).
    package var pseudo: Bool = false
    package var depends: String?
    package var objectType: String?
    package var annotatedTypes: String?
    package var objectDependsWithAttribute: String?
    package var without: [String] = []
    /// Attribute code → Name properties (`type`, `required`, `multivalue`, `description`) merged over
    /// the generated ones.
    package var objectAttributesOverride: [String: JSONObject] = [:]
    package var dictionaryNames: [NameDefinition] = []

    package init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// A Name of a destination (docs/control-files.md §1): a typed slot, an attribute code or dictionary key.
package struct NameDefinition: Sendable, Equatable {
    package var name: String
    package var dataType: DataType
    package var multivalue: Bool
    package var required: Bool
    package var description: String

    package init(name: String, dataType: DataType, multivalue: Bool = false, required: Bool = false, description: String = "") {
        self.name = name
        self.dataType = dataType
        self.multivalue = multivalue
        self.required = required
        self.description = description
    }
}
