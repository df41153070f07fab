/// A starting point for a control file, made from a model and the names an operator ticked (the
/// admin UI's "Generate control file"). It is never valid as it stands: every `TODO-` placeholder
/// is for a person to replace. Rules, in order:
///
/// 1. `haplo:person` starts by finding the person by username and loading their `profile`.
/// 2. Destinations in model order, names in their order; a destination's first use adds a `new`
///    instruction unless it is already loaded or depends on another one.
/// 3. Each name becomes a `field` from `TODO-<LAST PART OF THE CODE>`, with what its data type needs
///    (a mapping for refs, a date format, a country, structured parts…); a ticked `multivalue`
///    clears the old values first and appends.
package enum ControlFileSkeleton {
    /// One ticked name: which destination and name, and whether to import it as multivalue.
    package struct Selection: Hashable, Sendable {
        package var destination: String
        package var name: String
        package var multivalue: Bool

        package init(destination: String, name: String, multivalue: Bool = false) {
            self.destination = destination
            self.name = name
            self.multivalue = multivalue
        }
    }

    /// The mapping generated for a `ref` name, when there is one (see `RefMappingSkeleton`).
    package typealias MappingProvider = (_ destination: Destination, _ name: NameDefinition) -> (name: String, mapping: JSONValue)?

    package static func generate(model: Model, selections: [Selection], mapping: MappingProvider = { _, _ in nil }) -> JSONValue {
        var instructions: [JSONValue] = []
        var available: Set<String> = []
        var mappings: [(String, JSONValue)] = []
        if model.name == "haplo:person" {
            instructions.append(
                object([
                    ("source", .string("TODO-USERNAME")), ("destination", .string("load:by-ref")), ("name", .string("ref")),
                    ("filters", .array([.string("haplo:username-to-ref")]))
                ]))
            instructions.append(
                object([("action", .string("load")), ("destination", .string("profile")), ("using", .string("load:by-ref"))]))
            available.insert("profile")
        }
        let ticked = Dictionary(selections.map { ("\($0.destination)\u{0}\($0.name)", $0) }, uniquingKeysWith: { a, _ in a })
        for destination in model.destinations where !destination.pseudo {
            for nameCode in destination.nameOrder {
                guard let selection = ticked["\(destination.name)\u{0}\(nameCode)"], let name = destination.name(nameCode) else { continue }
                if !available.contains(destination.name) {
                    available.insert(destination.name)
                    if destination.depends == nil {
                        instructions.append(object([("action", .string("new")), ("destination", .string(destination.name))]))
                    }
                }
                let source = "TODO-" + (nameCode.split(separator: ":").last.map { $0.uppercased() } ?? nameCode.uppercased())
                var field: [(String, JSONValue)] = [
                    ("source", .string(source)), ("destination", .string(destination.name)), ("name", .string(nameCode))
                ]
                var parts: [JSONValue] = []
                switch name.dataType {
                case .ref:
                    if let generated = mapping(destination, name) {
                        field.append(("refMapping", .string(generated.name)))
                        if !mappings.contains(where: { $0.0 == generated.name }) { mappings.append((generated.name, generated.mapping)) }
                    } else {
                        field.append(("refMapping", .string("TODO-DEFINE-MAPPING")))
                    }
                case .objectType:
                    field.append(("mapInputValue", object([("TODO-N1", .string("TODO-type:code"))])))
                    field.append(("mapInputValueDefault", .string("TODO-default-type:code")))
                case .telephoneNumber: field.append(("country", .string("GB")))
                case .datetime: field.append(("dateFormat", .string("yyyy-MM-dd")))
                case .url: field.append(("filters", .array([.string("haplo:fix-up-url")])))
                case .personName, .postalAddress:
                    let (structured, partNames) =
                        name.dataType == .personName
                        ? ("value:person-name", ["title", "first", "middle", "last", "suffix"])
                        : ("value:postal-address", ["street1", "street2", "city", "county", "postcode", "country"])
                    parts = partNames.map { part in
                        object([
                            ("source", .string("\(source)-\(part.uppercased())")), ("destination", .string(structured)),
                            ("name", .string(part))
                        ])
                    }
                    field = [
                        ("action", .string("field-structured")), ("structured", .string(structured)),
                        ("destination", .string(destination.name)), ("name", .string(nameCode))
                    ]
                default: break
                }
                instructions += parts
                if name.multivalue && selection.multivalue {
                    instructions.append(
                        object([
                            ("action", .string("remove-values")), ("destination", .string(destination.name)), ("name", .string(nameCode))
                        ]))
                    field.append(("multivalue", .bool(true)))
                }
                instructions.append(object(field))
            }
        }
        var root: [(String, JSONValue)] = [
            ("dataImportControlFileVersion", .number(0)), ("model", .string(model.name)),
            ("files", object([("DEFAULT", object([("read", .string("json"))]))])),
            ("instructions", .array(instructions))
        ]
        if !mappings.isEmpty { root.append(("mapping", .object(JSONObject(mappings)))) }
        return object(root)
    }

    private static func object(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs)) }
}
