/// Every model available to control files, derived from a schema (docs/control-files.md#models-and-destinations).
package struct ModelRegistry: Sendable {
    package private(set) var models: [String: Model] = [:]
    package private(set) var order: [String] = []
    package let schema: Schema

    package init(schema: Schema) {
        self.schema = schema
        if schema.types[StandardSchema.personType] != nil {
            let profile = makeObjectDestination(
                name: "profile", objectType: StandardSchema.personType,
                overrides: [StandardSchema.titleAttribute: .personName])
            add(
                Model(
                    name: "haplo:person", title: "Person", description: "People and their profiles",
                    destinations: withPseudoDestinations([profile])))
        }
        for definition in schema.modelDefinitions {
            let destinations = definition.destinations.map { d -> Destination in
                switch d.kind {
                case .object:
                    var destination = makeObjectDestination(
                        name: d.name, objectType: d.objectType,
                        annotatedTypes: d.annotatedTypes, without: Set(d.without),
                        propertyOverrides: d.objectAttributesOverride)
                    destination.title = d.title ?? d.name
                    destination.optional = d.optional
                    destination.depends = d.depends
                    destination.objectDependsWithAttribute = d.objectDependsWithAttribute
                    return destination
                case .dictionary:
                    return Destination(
                        name: d.name, title: d.title, kind: .dictionary, optional: d.optional,
                        depends: d.depends, pseudo: d.pseudo, names: d.dictionaryNames)
                }
            }
            add(
                Model(
                    name: definition.name, title: definition.name, description: definition.description,
                    destinations: withPseudoDestinations(destinations)))
        }
        for code in schema.typeOrder {
            let type = schema.types[code]!
            let object = makeObjectDestination(name: "object", objectType: code)
            add(
                Model(
                    name: "TYPE:\(code)", title: type.name, description: "Objects of type \(type.name)",
                    destinations: withPseudoDestinations([object])))
        }
    }

    package subscript(name: String) -> Model? { models[name] }

    private mutating func add(_ model: Model) {
        if models[model.name] == nil { order.append(model.name) }
        models[model.name] = model
    }

    private func makeObjectDestination(
        name: String, objectType: String?, annotatedTypes: String? = nil,
        without: Set<String> = [], overrides: [String: DataType] = [:],
        propertyOverrides: [String: JSONObject] = [:]
    ) -> Destination {
        let types: [String]
        let accepted: Set<String>
        if let objectType {
            types = [objectType]
            accepted = schema.typeWithSubtypes(objectType)
        } else if let annotatedTypes {
            types = schema.types(annotatedWith: annotatedTypes)
            accepted = Set(types)
        } else {
            types = []
            accepted = []
        }
        var names: [NameDefinition] = []
        var seen: Set<String> = []
        for type in types {
            for code in schema.attributes(ofType: type) where !without.contains(code) && !seen.contains(code) {
                guard let attribute = schema.attributes[code] else { continue }
                seen.insert(code)
                var definition = NameDefinition(
                    name: code, dataType: overrides[code] ?? attribute.dataType, multivalue: true,
                    required: code == StandardSchema.titleAttribute, description: attribute.name)
                if let o = propertyOverrides[code] {
                    if let type = o["type"]?.stringValue.flatMap(DataType.init(schemaName:)) { definition.dataType = type }
                    if let required = o["required"] { definition.required = required.isTruthy }
                    if let multivalue = o["multivalue"] { definition.multivalue = multivalue.isTruthy }
                    if let description = o["description"]?.stringValue { definition.description = description }
                }
                // Applied after the overrides (docs/control-files.md#models-and-destinations).
                if code == StandardSchema.typeAttribute { definition.dataType = .objectType }
                names.append(definition)
            }
        }
        return Destination(
            name: name, kind: .object, objectType: objectType,
            annotatedTypes: objectType == nil ? annotatedTypes : nil,
            acceptedTypes: accepted, names: names)
    }

    /// Adds `load:by-ref` and a `value:<type>` destination for each structured type a Name uses.
    private func withPseudoDestinations(_ destinations: [Destination]) -> [Destination] {
        var result = destinations
        if destinations.contains(where: { $0.kind == .object }) {
            result.append(
                Destination(
                    name: "load:by-ref", kind: .dictionary, pseudo: true,
                    names: [NameDefinition(name: "ref", dataType: .ref)]))
        }
        // docs/schema.md gives every model both structured-value pseudo-destinations, which is a superset of
        // docs/control-files.md#models-and-destinations (only the structured types some Name uses); we follow docs/schema.md.
        do {
            result.append(
                Destination(
                    name: "value:person-name", kind: .dictionary, pseudo: true,
                    names: ["title", "first", "middle", "last", "suffix"].map {
                        NameDefinition(name: $0, dataType: .text, required: $0 == "last")
                    }))
        }
        do {
            result.append(
                Destination(
                    name: "value:postal-address", kind: .dictionary, pseudo: true,
                    names: ["street1", "street2", "city", "county", "postcode", "country"].map {
                        NameDefinition(name: $0, dataType: .text, required: $0 == "country")
                    }))
        }
        return result
    }
}
