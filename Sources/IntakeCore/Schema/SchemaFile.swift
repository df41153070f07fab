/// Loads a schema file (docs/schema.md "Schema files") on top of a schema.
package enum SchemaFile {
    package struct LoadError: Error, Sendable, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }

    package static func apply(_ json: JSONValue, named fileName: String, to schema: inout Schema) throws(LoadError) {
        func fail(_ message: String) -> LoadError { LoadError(message: "Schema file \(fileName): \(message)") }
        guard case .object(let root) = json else { throw fail("not a JSON object") }
        func list(_ key: String) throws(LoadError) -> [JSONObject] {
            guard let value = root[key] else { return [] }
            guard case .array(let items) = value else { throw fail("'\(key)' is not an array") }
            var result: [JSONObject] = []
            for item in items {
                guard case .object(let o) = item else { throw fail("an entry of '\(key)' is not an object") }
                result.append(o)
            }
            return result
        }
        func string(_ o: JSONObject, _ key: String, in section: String) throws(LoadError) -> String {
            guard case .string(let s)? = o[key], !s.isEmpty else { throw fail("an entry of '\(section)' has no '\(key)'") }
            return s
        }
        func strings(_ o: JSONObject, _ key: String) -> [String] {
            (o[key]?.arrayValue ?? []).compactMap(\.stringValue)
        }
        do {
            for a in try list("attributes") {
                let code = try string(a, "code", in: "attributes")
                let typeName = try string(a, "dataType", in: "attributes")
                guard let dataType = DataType(schemaName: typeName) else { throw fail("unknown dataType \(typeName) for \(code)") }
                try schema.add(
                    AttributeDefinition(
                        code: code, name: a["name"]?.stringValue ?? code, dataType: dataType,
                        linkedTypes: strings(a, "linkedTypes")))
            }
            for q in try list("qualifiers") {
                let code = try string(q, "code", in: "qualifiers")
                try schema.add(QualifierDefinition(code: code, name: q["name"]?.stringValue ?? code))
            }
            for t in try list("types") {
                let code = try string(t, "code", in: "types")
                try schema.add(
                    TypeDefinition(
                        code: code, name: t["name"]?.stringValue ?? code, parent: t["parent"]?.stringValue,
                        annotations: strings(t, "annotations"), attributes: strings(t, "attributes")))
            }
            for o in try list("objects") {
                schema.add(
                    ListObjectDefinition(
                        type: try string(o, "type", in: "objects"),
                        title: try string(o, "title", in: "objects"),
                        behaviour: try string(o, "behaviour", in: "objects")))
            }
            for m in try list("models") {
                let name = try string(m, "name", in: "models")
                var destinations: [DestinationDefinition] = []
                for d in (m["destinations"]?.arrayValue ?? []).compactMap(\.objectValue) {
                    let destinationName = try string(d, "name", in: "destinations")
                    let kind = DestinationDefinition.Kind(rawValue: d["kind"]?.stringValue ?? "object") ?? .object
                    var definition = DestinationDefinition(name: destinationName, kind: kind)
                    definition.title = d["title"]?.stringValue
                    definition.optional = d["optional"]?.isTruthy ?? false
                    definition.pseudo = d["pseudo"]?.isTruthy ?? false
                    definition.depends = d["depends"]?.stringValue
                    definition.objectType = d["objectType"]?.stringValue
                    definition.annotatedTypes = d["annotatedTypes"]?.stringValue
                    definition.objectDependsWithAttribute = d["objectDependsWithAttribute"]?.stringValue
                    definition.without = strings(d, "without")
                    if case .object(let overrides)? = d["objectAttributesOverride"] {
                        for (code, properties) in overrides.pairs {
                            guard case .object(let o) = properties else { throw fail("override of \(code) is not an object") }
                            if let type = o["type"]?.stringValue, DataType(schemaName: type) == nil {
                                throw fail("unknown type \(type) in the override of \(code)")
                            }
                            definition.objectAttributesOverride[code] = o
                        }
                    }
                    if case .object(let names)? = d["dictionaryNames"] {
                        definition.dictionaryNames = names.pairs.compactMap { key, spec in
                            guard case .object(let s) = spec else { return nil }
                            return NameDefinition(
                                name: key, dataType: DataType(schemaName: s["type"]?.stringValue ?? "text") ?? .text,
                                multivalue: s["multivalue"]?.isTruthy ?? false,
                                required: s["required"]?.isTruthy ?? false,
                                description: s["description"]?.stringValue ?? "")
                        }
                    }
                    destinations.append(definition)
                }
                try schema.add(
                    ModelDefinition(
                        name: name, description: m["description"]?.stringValue ?? name,
                        destinations: destinations))
            }
            try schema.checkReferences()
        } catch let error as LoadError {
            throw error
        } catch let error as Schema.DefinitionError {
            switch error {
            case .duplicate(let code): throw fail("redefines \(code)")
            case .unknown(let code, let context): throw fail("unknown code \(code) (\(context))")
            }
        } catch {
            throw fail("\(error)")
        }
    }
}
