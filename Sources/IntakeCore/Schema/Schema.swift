/// An attribute definition: a typed, multi-value slot of store objects.
package struct AttributeDefinition: Sendable, Equatable {
    package var code: String
    package var name: String
    package var dataType: DataType
    /// Types a link may point to; empty means any.
    package var linkedTypes: [String]

    package init(code: String, name: String, dataType: DataType, linkedTypes: [String] = []) {
        self.code = code
        self.name = name
        self.dataType = dataType
        self.linkedTypes = linkedTypes
    }
}

package struct QualifierDefinition: Sendable, Equatable {
    package var code: String
    package var name: String

    package init(code: String, name: String) {
        self.code = code
        self.name = name
    }
}

package struct TypeDefinition: Sendable, Equatable {
    package var code: String
    package var name: String
    package var parent: String?
    package var annotations: [String]
    /// The type's own attributes; `Schema.attributes(ofType:)` adds the inherited ones.
    package var attributes: [String]

    package init(code: String, name: String, parent: String? = nil, annotations: [String] = [], attributes: [String] = []) {
        self.code = code
        self.name = name
        self.parent = parent
        self.annotations = annotations
        self.attributes = attributes
    }
}

/// A list object created at start-up (docs/schema.md "Objects").
package struct ListObjectDefinition: Sendable, Equatable {
    package var type: String
    package var title: String
    package var behaviour: String

    package init(type: String, title: String, behaviour: String) {
        self.type = type
        self.title = title
        self.behaviour = behaviour
    }
}

/// The merged schema: the standard schema plus any schema files.
package struct Schema: Sendable {
    package private(set) var attributes: [String: AttributeDefinition] = [:]
    package private(set) var attributeOrder: [String] = []
    package private(set) var qualifiers: [String: QualifierDefinition] = [:]
    package private(set) var qualifierOrder: [String] = []
    package private(set) var types: [String: TypeDefinition] = [:]
    package private(set) var typeOrder: [String] = []
    package private(set) var listObjects: [ListObjectDefinition] = []
    package private(set) var modelDefinitions: [ModelDefinition] = []

    package init() {}

    package enum DefinitionError: Error, Equatable, Sendable {
        case duplicate(String)
        case unknown(String, context: String)
    }

    package mutating func add(_ attribute: AttributeDefinition) throws(DefinitionError) {
        guard attributes[attribute.code] == nil else { throw .duplicate(attribute.code) }
        attributes[attribute.code] = attribute
        attributeOrder.append(attribute.code)
    }

    package mutating func add(_ qualifier: QualifierDefinition) throws(DefinitionError) {
        guard qualifiers[qualifier.code] == nil else { throw .duplicate(qualifier.code) }
        qualifiers[qualifier.code] = qualifier
        qualifierOrder.append(qualifier.code)
    }

    package mutating func add(_ type: TypeDefinition) throws(DefinitionError) {
        guard types[type.code] == nil else { throw .duplicate(type.code) }
        types[type.code] = type
        typeOrder.append(type.code)
    }

    package mutating func add(_ object: ListObjectDefinition) {
        listObjects.append(object)
    }

    package mutating func add(_ model: ModelDefinition) throws(DefinitionError) {
        guard !modelDefinitions.contains(where: { $0.name == model.name }) else { throw .duplicate(model.name) }
        modelDefinitions.append(model)
    }

    /// A text that changes whenever any definition changes, for telling whether two runs used the
    /// same schema (a feed skips records only then). Dictionaries are written in key order.
    package var fingerprint: String {
        var text = ""
        for code in attributeOrder { text += "a \(attributes[code]!)\n" }
        for code in qualifierOrder { text += "q \(qualifiers[code]!)\n" }
        for code in typeOrder { text += "t \(types[code]!)\n" }
        for object in listObjects { text += "l \(object)\n" }
        for model in modelDefinitions {
            text += "m \(model.name) \(model.description)\n"
            for destination in model.destinations {
                var plain = destination
                plain.objectAttributesOverride = [:]
                text += "d \(plain)\n"
                for (code, override) in destination.objectAttributesOverride.sorted(by: { $0.key < $1.key }) {
                    text += "o \(code) \(JSONValue.object(override).compactJSON)\n"
                }
            }
        }
        return text
    }

    /// The type's ancestors, starting with the type itself.
    package func lineage(of type: String) -> [String] {
        var result: [String] = []
        var current: String? = type
        while let code = current, let definition = types[code], !result.contains(code) {
            result.append(code)
            current = definition.parent
        }
        return result
    }

    package func isKind(_ type: String, of ancestor: String) -> Bool {
        lineage(of: type).contains(ancestor)
    }

    /// The type and all of its descendants.
    package func typeWithSubtypes(_ type: String) -> Set<String> {
        Set(typeOrder.filter { isKind($0, of: type) })
    }

    /// Every type that carries the annotation, with their subtypes.
    package func types(annotatedWith annotation: String) -> [String] {
        typeOrder.filter { code in lineage(of: code).contains { types[$0]?.annotations.contains(annotation) ?? false } }
    }

    /// Inherited attributes first, then the type's own, then `dc:attribute:type` if not listed.
    package func attributes(ofType type: String) -> [String] {
        var result: [String] = []
        for code in lineage(of: type).reversed() {
            for attribute in types[code]?.attributes ?? [] where !result.contains(attribute) {
                result.append(attribute)
            }
        }
        if !result.contains(StandardSchema.typeAttribute) { result.append(StandardSchema.typeAttribute) }
        return result
    }

    /// Checks that every code a definition refers to exists.
    package func checkReferences() throws(DefinitionError) {
        for code in typeOrder {
            let type = types[code]!
            if let parent = type.parent, types[parent] == nil { throw .unknown(parent, context: "parent of \(code)") }
            for attribute in type.attributes where attributes[attribute] == nil {
                throw .unknown(attribute, context: "attribute of \(code)")
            }
        }
        for object in listObjects where types[object.type] == nil {
            throw .unknown(object.type, context: "type of object \(object.title)")
        }
    }
}
