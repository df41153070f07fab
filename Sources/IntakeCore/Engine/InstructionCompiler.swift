/// Preparation (docs/control-files.md#how-a-record-is-processed): compiles instruction lists once per batch.
/// Problems are reported without a record suffix and drop the instruction.
struct InstructionCompiler {
    unowned let batch: ImportBatch
    /// Compiling a feed's `leavers` instructions, where `delete` is an action.
    let forLeavers: Bool

    init(batch: ImportBatch, forLeavers: Bool = false) {
        self.batch = batch
        self.forLeavers = forLeavers
    }

    mutating func compile(_ list: [JSONValue]) throws(ImportFatalError) -> [Instruction] {
        var result: [Instruction] = []
        for item in list {
            result.append(try compile(item.objectValue ?? JSONObject()))
        }
        return result
    }

    private mutating func nested(_ i: JSONObject, _ key: String) throws(ImportFatalError) -> [Instruction] {
        guard case .array(let list)? = i[key] else { return [] }
        return try compile(list)
    }

    private func string(_ i: JSONObject, _ key: String) -> String {
        i[key]?.jsForm ?? "undefined"
    }

    private mutating func compile(_ i: JSONObject) throws(ImportFatalError) -> Instruction {
        let action = ControlFileValidator.action(of: i)
        switch action {
        case "field":
            guard let (slot, converter) = try valueSlot(i, action: action, details: "input field \(string(i, "source"))")
            else { return .dropped }
            return .field(source: string(i, "source"), slot: slot, converter: converter)
        case "field-structured":
            let structured = string(i, "structured")
            guard let (slot, converter) = try valueSlot(i, action: action, details: "structured input field \(structured)")
            else { return .dropped }
            guard let s = batch.model.destination(structured), s.pseudo, s.kind == .dictionary else {
                batch.reportPreparation("Unknown structured value destination in field-structured: \(structured)")
                return .dropped
            }
            return .fieldStructured(structured: structured, slot: slot, converter: converter)
        case "set-attribute-group":
            let source = string(i, "source")
            guard let (slot, _) = try valueSlot(i, action: action, details: "input field \(source)") else { return .dropped }
            guard batch.model.destination(source) != nil else {
                batch.reportPreparation("Unknown attribute group destination in set-attribute-group: \(source)")
                return .dropped
            }
            return .setAttributeGroup(source: source, slot: slot)
        case "set-value":
            let details = "set value \(string(i, "destination"))/\(string(i, "name"))"
            guard let (slot, converter) = try valueSlot(i, action: action, details: details) else { return .dropped }
            return .setValue(value: i["value"] ?? .null, slot: slot, converter: converter, cache: ConstantCache())
        case "remove-values":
            let destination = string(i, "destination")
            guard let d = batch.model.destination(destination) else {
                batch.reportPreparation("Unknown destination in remove-values: \(destination)")
                return .dropped
            }
            guard d.name(string(i, "name")) != nil else {
                batch.reportPreparation("Unknown name in remove-values for destination \(destination)")
                return .dropped
            }
            return .removeValues(destination: destination, name: string(i, "name"))
        case "if-exists":
            return .ifExists(source: string(i, "source"), then: try nested(i, "then"), else: try nested(i, "else"))
        case "if-value-one-of":
            let values = i["values"]?.arrayValue ?? []
            return .ifValueOneOf(
                source: string(i, "source"), values: values,
                then: try nested(i, "then"), else: try nested(i, "else"))
        case "if-has-value":
            // The nested lists are prepared before the instruction itself, so their messages come first.
            let then = try nested(i, "then")
            let otherwise = try nested(i, "else")
            let prepared = try valueSlot(i, action: action, details: "name \(string(i, "name"))")
            guard let (slot, _) = prepared else { return .dropped }
            return .ifHasValue(destination: slot.destination.name, name: slot.name.name, then: then, else: otherwise)
        case "within":
            return .within(source: string(i, "source"), instructions: try nested(i, "instructions"))
        case "for-each":
            return .forEach(
                source: string(i, "source"), wrapValues: i["wrapValues"]?.isTruthy ?? false,
                instructions: try nested(i, "instructions"))
        case "new":
            return .new(destination: string(i, "destination"))
        case "load":
            var otherwise: [Instruction]?
            if let o = i["otherwise"] {
                otherwise = []
                if case .array(let list) = o { otherwise = try compile(list) }
            }
            return .load(destination: string(i, "destination"), using: string(i, "using"), otherwise: otherwise)
        case "assert-destination":
            let destination = string(i, "destination")
            guard let d = batch.model.destination(destination) else {
                batch.reportPreparation("Unknown destination in assert-destination: \(destination)")
                return .dropped
            }
            guard d.depends != nil else {
                batch.reportPreparation("Can only use dependent destinations in assert-destination: \(destination)")
                return .dropped
            }
            return .assertDestination(destination: destination, exists: i["exists"] ?? .null)
        case "abort-record":
            return .abortRecord(message: i["message"].flatMap { $0.isMissing ? nil : $0.jsForm } ?? "abort")
        case "log-error":
            return .logError(message: i["message"].flatMap { $0.isMissing ? nil : $0.jsForm } ?? "error")
        case "delete" where forLeavers:
            let destination = string(i, "destination")
            guard let d = batch.model.destination(destination) else {
                batch.reportPreparation("Unknown destination in delete: \(destination)")
                return .dropped
            }
            guard d.kind == .object, !d.pseudo else {
                batch.reportPreparation("Can only delete object destinations in delete: \(destination)")
                return .dropped
            }
            return .delete(destination: destination)
        default:
            throw ImportFatalError("Unknown action in instruction: \(action)")
        }
    }

    /// The shared preparation of value instructions (§4.2).
    private mutating func valueSlot(_ i: JSONObject, action: String, details: String)
        throws(ImportFatalError) -> (ValueSlot, ValueConverter)?
    {
        let destinationName = string(i, "destination")
        let nameName = string(i, "name")
        guard let destination = batch.model.destination(destinationName) else {
            batch.reportPreparation("Unknown destination in \(action): \(destinationName)")
            return nil
        }
        guard let name = destination.name(nameName) else {
            batch.reportPreparation("Unknown name in \(action) \(nameName) for destination \(destinationName)")
            return nil
        }
        var filters: [any ValueFilter] = []
        if case .array(let names)? = i["filters"] {
            for n in names {
                guard let filter = batch.filter(named: n.jsForm) else {
                    throw ImportFatalError("no filter defined for name: \(n.jsForm)")
                }
                filters.append(filter)
            }
        }
        guard let convert = DataTypeConverters.make(name.dataType, instruction: i, details: details, batch: batch) else {
            batch.reportPreparation("Couldn't create value transformer for \(action) \(destinationName)/\(nameName)")
            return nil
        }
        // Any `qualifier` property is looked up, "" and null included (they name no qualifier, so they
        // are reported like any unknown code and the values are set unqualified).
        var qualifier: String?
        if let q = i["qualifier"] {
            if batch.schema.qualifiers[q.jsForm] != nil {
                qualifier = q.jsForm
            } else {
                batch.reportPreparation("Invalid qualifier '\(q.jsForm)' in \(action) \(destinationName)/\(nameName)")
            }
        }
        let converter = ValueConverter(
            mapInputValue: i["mapInputValue"]?.objectValue,
            mapInputValueDefault: i["mapInputValue"]?.objectValue == nil ? nil : i["mapInputValueDefault"],
            filters: filters,
            convertDataType: convert)
        let slot = ValueSlot(
            destination: destination, name: name,
            multivalue: i["multivalue"]?.isTruthy ?? false, qualifier: qualifier)
        return (slot, converter)
    }
}
