import IntakeCore

/// JSON renderings of the schema and models for the read API.
enum SchemaJSON {
    static func schema(_ schema: Schema) -> JSONValue {
        let attributes: [JSONValue] = schema.attributeOrder.map { code in
            let a = schema.attributes[code]!
            var o = JSONObject([
                ("code", .string(a.code)), ("name", .string(a.name)),
                ("dataType", .string(a.dataType == .ref ? "link" : a.dataType.rawValue))
            ])
            if a.dataType == .ref { o["linkedTypes"] = .array(a.linkedTypes.map(JSONValue.string)) }
            return .object(o)
        }
        let qualifiers: [JSONValue] = schema.qualifierOrder.map { code in
            .object(JSONObject([("code", .string(code)), ("name", .string(schema.qualifiers[code]!.name))]))
        }
        let types: [JSONValue] = schema.typeOrder.map { code in
            let t = schema.types[code]!
            return .object(
                JSONObject([
                    ("code", .string(code)), ("name", .string(t.name)), ("parent", t.parent.map(JSONValue.string) ?? .null),
                    ("annotations", .array(t.annotations.map(JSONValue.string))),
                    ("attributes", .array(schema.attributes(ofType: code).map(JSONValue.string)))
                ]))
        }
        return .object(JSONObject([("attributes", .array(attributes)), ("qualifiers", .array(qualifiers)), ("types", .array(types))]))
    }

    static func modelSummary(_ model: Model) -> JSONValue {
        .object(
            JSONObject([
                ("name", .string(model.name)), ("title", .string(model.title)),
                ("description", .string(model.description))
            ]))
    }

    static func model(_ model: Model) -> JSONValue {
        let destinations: [JSONValue] = model.destinations.map { d in
            var o = JSONObject([
                ("name", .string(d.name)), ("title", .string(d.title)), ("kind", .string(d.kind.rawValue)),
                ("pseudo", .bool(d.pseudo)), ("optional", .bool(d.optional))
            ])
            if let depends = d.depends { o["depends"] = .string(depends) }
            if let t = d.objectType { o["objectType"] = .string(t) }
            if let a = d.annotatedTypes { o["annotatedTypes"] = .string(a) }
            if let a = d.objectDependsWithAttribute { o["objectDependsWithAttribute"] = .string(a) }
            o["names"] = .array(
                d.nameOrder.map { n in
                    let name = d.names[n]!
                    return .object(
                        JSONObject([
                            ("name", .string(name.name)), ("type", .string(name.dataType.rawValue)),
                            ("multivalue", .bool(name.multivalue)), ("required", .bool(name.required)),
                            ("description", .string(name.description))
                        ]))
                })
            return .object(o)
        }
        var o = modelSummary(model).objectValue!
        o["destinations"] = .array(destinations)
        return .object(o)
    }
}
