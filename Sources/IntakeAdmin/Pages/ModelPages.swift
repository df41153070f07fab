import Foundation
import IntakeCore

/// A model in the models list.
struct ModelLink: Sendable {
    var href: String
    var label: String
    var description: String

    init(_ model: Model) {
        href = AdminPath.model(model.name)
        label = "\(model.name) (\(model.title))"
        description = model.description.isEmpty ? "No description available" : model.description
    }
}

/// The models, with the automatic `TYPE:` models apart.
struct ModelsPage: Sendable {
    var models: [ModelLink]
    var automatic: [ModelLink]

    init(_ all: [Model]) {
        let sorted = all.sorted { $0.name < $1.name }
        models = sorted.filter { !$0.name.hasPrefix("TYPE:") }.map(ModelLink.init)
        automatic = sorted.filter { $0.name.hasPrefix("TYPE:") }.map(ModelLink.init)
    }
}

/// One model: each destination with its badges and names, and where a ref name can be mapped.
struct ModelPage: Sendable {
    struct Destination: Sendable {
        struct Name: Sendable {
            var code: String
            var type: String
            var multivalue: Bool
            var required: Bool
            var description: String
            /// The types a ref name links to, by name.
            var linked: String?
            /// The mapping page, for a ref name with linked types.
            var map: String?
        }
        var name: String
        var title: String
        var badges: [String]
        var names: [Name]
        var snippet: String
        var schemaHref: String?
    }

    var description: String?
    var destinations: [Destination]
    var generate: String

    /// - Parameter linkedTypes: the types a destination's name links to (none unless a ref).
    init(_ model: Model, schema: Schema, linkedTypes: (IntakeCore.Destination, NameDefinition) -> [String]) {
        description = model.description.isEmpty ? nil : model.description
        generate = AdminPath.model(model.name) + "/generate"
        destinations = model.destinations.map { destination in
            var badges: [String] = []
            if let depends = destination.depends { badges.append("Depends on \(depends)") }
            if destination.optional { badges.append("Optional") }
            if destination.pseudo { badges.append("Pseudo destination") }
            if destination.kind == .dictionary {
                badges.append("Dictionary")
            } else if let type = destination.objectType {
                badges.append("Object: \(schema.types[type]?.name ?? type) \(type)")
            } else if let annotated = destination.annotatedTypes {
                badges.append("Annotated: \(annotated)")
            }
            if let attribute = destination.objectDependsWithAttribute { badges.append("Linked with \(attribute)") }
            let names = destination.nameOrder.compactMap { destination.name($0) }.map { name in
                let linked = linkedTypes(destination, name)
                return Destination.Name(
                    code: name.name, type: name.dataType.rawValue, multivalue: name.multivalue, required: name.required,
                    description: name.description,
                    linked: linked.isEmpty ? nil : linked.map { schema.types[$0]?.name ?? $0 }.joined(separator: ", "),
                    map: linked.isEmpty
                        ? nil
                        : AdminPath.model(model.name) + "/mapping?" + PageLinks.part("destination", destination.name) + "&"
                            + PageLinks.part("name", name.name))
            }
            return Destination(
                name: destination.name, title: destination.title.isEmpty ? destination.name : destination.title, badges: badges, names: names,
                snippet: "{\"destination\": \"\(destination.name)\"}", schemaHref: destination.objectType.map { AdminPath.schema + "#" + $0 })
        }
    }
}

/// The form that picks a model's names for a generated control file.
struct GeneratePage: Sendable {
    struct Destination: Sendable {
        struct Name: Sendable {
            var code: String
            var description: String
            var field: String
            var multivalueField: String?
        }
        var title: String
        var names: [Name]
    }
    var destinations: [Destination]
    var action: String

    /// - Parameter checkboxName: a checkbox's name for a prefix, destination and name code.
    init(_ model: Model, checkboxName: (String, String, String) -> String) {
        action = AdminPath.model(model.name) + "/generate"
        destinations = model.destinations.filter { !$0.pseudo }.map { destination in
            Destination(
                title: destination.title.isEmpty ? destination.name : destination.title,
                names: destination.nameOrder.compactMap { destination.name($0) }.map { name in
                    Destination.Name(
                        code: name.name, description: name.description.isEmpty ? name.name : name.description,
                        field: checkboxName("n", destination.name, name.name),
                        multivalueField: name.multivalue ? checkboxName("m", destination.name, name.name) : nil)
                })
        }
    }
}

/// The generated control file, with the choices kept for its Download button.
struct GeneratedPage: Sendable {
    struct Ticked: Sendable { var name: String }
    var json: String
    var ticked: [Ticked]
    var action: String
}

/// The mapping a ref name needs: the types it links to and the generated mapping, or why none.
struct MappingPage: Sendable {
    var name: String
    var linked: [String]
    var tooMany = false
    var usesTitles = false
    var json: String?
}

/// The value filters control files can use.
struct FiltersPage: Sendable {
    struct Filter: Sendable {
        var name: String
        var description: String
    }
    var filters: [Filter]
}
