/// An attribute definition: a typed, multi-value slot of store objects.
public struct AttributeDefinition: Sendable, Equatable {
    public var code: String
    public var name: String
    public var dataType: DataType
    /// Types a link may point to; empty means any.
    public var linkedTypes: [String]

    public init(code: String, name: String, dataType: DataType, linkedTypes: [String] = []) {
        self.code = code
        self.name = name
        self.dataType = dataType
        self.linkedTypes = linkedTypes
    }
}

public struct QualifierDefinition: Sendable, Equatable {
    public var code: String
    public var name: String

    public init(code: String, name: String) {
        self.code = code
        self.name = name
    }
}

public struct TypeDefinition: Sendable, Equatable {
    public var code: String
    public var name: String
    public var parent: String?
    public var annotations: [String]
    /// The type's own attributes; `Schema.attributes(ofType:)` adds the inherited ones.
    public var attributes: [String]

    public init(code: String, name: String, parent: String? = nil, annotations: [String] = [], attributes: [String] = []) {
        self.code = code
        self.name = name
        self.parent = parent
        self.annotations = annotations
        self.attributes = attributes
    }
}

/// A list object created at start-up (SCHEMA.md "Objects").
public struct ListObjectDefinition: Sendable, Equatable {
    public var type: String
    public var title: String
    public var behaviour: String

    public init(type: String, title: String, behaviour: String) {
        self.type = type
        self.title = title
        self.behaviour = behaviour
    }
}

/// The merged schema: the standard schema plus any schema files.
public struct Schema: Sendable {
    public private(set) var attributes: [String: AttributeDefinition] = [:]
    public private(set) var attributeOrder: [String] = []
    public private(set) var qualifiers: [String: QualifierDefinition] = [:]
    public private(set) var qualifierOrder: [String] = []
    public private(set) var types: [String: TypeDefinition] = [:]
    public private(set) var typeOrder: [String] = []
    public private(set) var listObjects: [ListObjectDefinition] = []
    public private(set) var modelDefinitions: [ModelDefinition] = []

    public init() {}

    public enum DefinitionError: Error, Equatable, Sendable {
        case duplicate(String)
        case unknown(String, context: String)
    }

    public mutating func add(_ attribute: AttributeDefinition) throws(DefinitionError) {
        guard attributes[attribute.code] == nil else { throw .duplicate(attribute.code) }
        attributes[attribute.code] = attribute
        attributeOrder.append(attribute.code)
    }

    public mutating func add(_ qualifier: QualifierDefinition) throws(DefinitionError) {
        guard qualifiers[qualifier.code] == nil else { throw .duplicate(qualifier.code) }
        qualifiers[qualifier.code] = qualifier
        qualifierOrder.append(qualifier.code)
    }

    public mutating func add(_ type: TypeDefinition) throws(DefinitionError) {
        guard types[type.code] == nil else { throw .duplicate(type.code) }
        types[type.code] = type
        typeOrder.append(type.code)
    }

    public mutating func add(_ object: ListObjectDefinition) {
        listObjects.append(object)
    }

    public mutating func add(_ model: ModelDefinition) throws(DefinitionError) {
        guard !modelDefinitions.contains(where: { $0.name == model.name }) else { throw .duplicate(model.name) }
        modelDefinitions.append(model)
    }

    /// The type's ancestors, starting with the type itself.
    public func lineage(of type: String) -> [String] {
        var result: [String] = []
        var current: String? = type
        while let code = current, let definition = types[code], !result.contains(code) {
            result.append(code)
            current = definition.parent
        }
        return result
    }

    public func isKind(_ type: String, of ancestor: String) -> Bool {
        lineage(of: type).contains(ancestor)
    }

    /// The type and all of its descendants.
    public func typeWithSubtypes(_ type: String) -> Set<String> {
        Set(typeOrder.filter { isKind($0, of: type) })
    }

    /// Every type that carries the annotation, with their subtypes.
    public func types(annotatedWith annotation: String) -> [String] {
        typeOrder.filter { code in lineage(of: code).contains { types[$0]?.annotations.contains(annotation) ?? false } }
    }

    /// Inherited attributes first, then the type's own, then `dc:attribute:type` if not listed.
    public func attributes(ofType type: String) -> [String] {
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
    public func checkReferences() throws(DefinitionError) {
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
