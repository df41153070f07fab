/// What a control file may name: models, readers, filters and record processors.
package struct ControlFileVocabulary: Sendable {
    package var models: ModelRegistry
    package var readers: Set<String>
    package var filters: Set<String>
    package var recordProcessors: Set<String>

    package init(models: ModelRegistry, readers: Set<String>, filters: Set<String>, recordProcessors: Set<String> = []) {
        self.models = models
        self.readers = readers
        self.filters = filters
        self.recordProcessors = recordProcessors
    }
}

/// Control-file validation, docs/control-files.md#what-is-checked-on-upload: five checks, each adding at most one message.
package struct ControlFileValidator: Sendable {
    package let vocabulary: ControlFileVocabulary

    package init(vocabulary: ControlFileVocabulary) {
        self.vocabulary = vocabulary
    }

    /// The actions, their expected properties and nested lists, in table order.
    package static let actions: [String: (expected: [String], nested: [String])] = [
        "field": (["source", "destination", "name"], []),
        "field-structured": (["structured", "destination", "name"], []),
        "set-attribute-group": (["source", "destination", "name"], []),
        "set-value": (["destination", "name", "value"], []),
        "remove-values": (["destination", "name"], []),
        "if-exists": (["source"], ["then", "else"]),
        "if-value-one-of": (["source"], ["then", "else"]),
        "if-has-value": (["destination", "name"], ["then", "else"]),
        "within": (["source"], ["instructions"]),
        "for-each": (["source"], ["instructions"]),
        "new": (["destination"], []),
        "load": (["destination", "using"], []),
        "assert-destination": (["destination", "exists"], []),
        "abort-record": (["message"], []),
        "log-error": (["message"], [])
    ]

    /// The action only a feed's `leavers` instructions have (docs/feeds.md).
    static let leaverActions: [String: (expected: [String], nested: [String])] = [
        "delete": (["destination"], [])
    ]

    package static let overwriteMessage =
        "Assigning values within for-each without a new/load statement or setting multivalue property will result in overwritten data"

    /// The action of an instruction: `action`, or `field` when that is absent, null, "" or false.
    static func action(of instruction: JSONObject) -> String {
        guard let value = instruction["action"], !value.isMissing else { return "field" }
        return value.jsForm
    }

    /// Returns the validation messages; empty means valid.
    package func validate(_ control: JSONValue) -> [String] {
        let root: JSONObject
        switch control {
        case .object(let object): root = object
        // An array has none of the properties, as an empty object has none: the original read both the
        // same way, so an array gets the four messages of `{}`.
        case .array: root = JSONObject()
        default: return ["Not a control file"]
        }
        var messages: [String] = []

        if let version = root["dataImportControlFileVersion"] {
            if version != .number(0) { messages.append("Bad version of control file, should be 0") }
        } else {
            messages.append("Not a control file")
        }

        if let model = root["model"] {
            let name = model.jsForm
            if vocabulary.models[name] == nil { messages.append("Model not implemented: \(name)") }
        } else {
            messages.append("Control file does not specify model in the model property")
        }

        if let instructions = root["instructions"] {
            var walk = InstructionWalk(vocabulary: vocabulary)
            if case .array(let list) = instructions {
                walk.walk(list, permitted: nil)
            }
            if let error = walk.error { messages.append(error) }
        } else {
            messages.append("Control file does not specify processing instructions in the instructions property")
        }

        if let files = root["files"] {
            var last: String?
            if case .object(let specs) = files {
                for (name, spec) in specs.pairs {
                    guard case .object(let o) = spec, let read = o["read"] else {
                        last = "Reader not specified for file \(name)"
                        continue
                    }
                    if !vocabulary.readers.contains(read.jsForm) {
                        last = "Unknown reader for file \(name): \(read.jsForm)"
                    }
                }
            }
            if let last { messages.append(last) }
        } else {
            messages.append("Control file does not have files property")
        }

        if let processor = root["recordProcessor"], !vocabulary.recordProcessors.contains(processor.jsForm) {
            messages.append("Unknown record processor specified in recordProcessor property: \(processor.jsForm)")
        }

        // The sixth check, of the `feed` extension (docs/feeds.md).
        if let feed = root["feed"], let problem = FeedDeclaration.problem(feed, instructionProblem: leaversProblem) {
            messages.append(problem)
        }
        // The `errorPolicy` extension (docs/control-files.md).
        if let policy = root["errorPolicy"], let problem = ErrorPolicy.problem(policy) {
            messages.append(problem)
        }
        return messages
    }
}

extension ControlFileValidator {
    /// The instruction check of a feed's `leavers` list.
    func leaversProblem(_ list: [JSONValue]) -> String? {
        var walk = InstructionWalk(vocabulary: vocabulary, forLeavers: true)
        walk.walk(list, permitted: nil)
        return walk.error
    }
}

/// The depth-first instruction walk; stops at the first error.
private struct InstructionWalk {
    let vocabulary: ControlFileVocabulary
    /// Whether `delete` is an action here.
    let forLeavers: Bool
    var error: String?

    init(vocabulary: ControlFileVocabulary, forLeavers: Bool = false) {
        self.vocabulary = vocabulary
        self.forLeavers = forLeavers
    }

    /// The for-each permitted-destination list, shared by reference with nested if-*/within lists.
    final class Permitted {
        var destinations: Set<String> = []
    }

    mutating func walk(_ list: [JSONValue], permitted: Permitted?) {
        for item in list {
            if error != nil { return }
            let instruction = item.objectValue ?? JSONObject()
            let action = ControlFileValidator.action(of: instruction)
            guard let shape = ControlFileValidator.actions[action] ?? (forLeavers ? ControlFileValidator.leaverActions[action] : nil) else {
                error = "Unknown action in instruction: \(action)"
                return
            }
            let missing = shape.expected.filter { instruction[$0] == nil }
            if !missing.isEmpty {
                error = "Expected property not found in \(action) instruction: \(missing.joined(separator: ", "))"
                return
            }
            if let permitted {
                let destination = instruction["destination"]?.jsForm ?? "undefined"
                switch action {
                case "field", "field-structured", "set-value":
                    let allowed =
                        instruction["multivalue"]?.isTruthy == true
                        || destination.contains("load")
                        || permitted.destinations.contains(destination)
                    if !allowed {
                        error = ControlFileValidator.overwriteMessage
                        return
                    }
                case "new", "load":
                    permitted.destinations.insert(destination)
                default:
                    break
                }
            }
            for key in shape.nested {
                guard case .array(let nested)? = instruction[key] else { continue }
                walk(nested, permitted: action == "for-each" ? Permitted() : permitted)
                if error != nil { return }
            }
            if action == "field" {
                if let filters = instruction["filters"] {
                    guard case .array(let names) = filters else {
                        error = "'filters' property is not an array"
                        return
                    }
                    if let unknown = names.first(where: { !vocabulary.filters.contains($0.jsForm) }) {
                        error = "Filter \(unknown.jsForm) is not available."
                        return
                    }
                }
            }
        }
    }
}
