/// The processing of one record (docs/control-files.md#how-a-record-is-processed): runs the instructions, keeps the targets,
/// and knows whether the record is complete and may be committed.
package final class Transformation {
    unowned let batch: ImportBatch
    package let identifier: String
    /// Current targets in installation order.
    var current: [(name: String, target: Target)] = []
    /// Targets replaced by `new`/`load`, committed first.
    var queue: [(name: String, target: Target)] = []
    package private(set) var isComplete = true

    init(batch: ImportBatch, identifier: String) {
        self.batch = batch
        self.identifier = identifier
    }

    func abort(_ message: String) {
        isComplete = false
        batch.report(message)
    }

    func run(_ record: JSONValue) throws {
        try run(batch.instructions, record: record)
    }

    func run(_ instructions: [Instruction], record: JSONValue) throws {
        try run(instructions, context: record)
        if isComplete { endOfRecordChecks() }
    }

    private func lookup(_ context: JSONValue, _ key: String) -> JSONValue? {
        if case .object(let o) = context { return o[key] }
        return nil
    }

    private func run(_ instructions: [Instruction], context: JSONValue) throws {
        for instruction in instructions {
            try run(instruction, context: context)
        }
    }

    private func run(_ instruction: Instruction, context: JSONValue) throws {
        switch instruction {
        case .field(let source, let slot, let converter):
            guard let input = lookup(context, source), !input.isMissing else { return }
            guard let value = try converter.convert(input, batch: batch) else { return }
            try set(value, in: slot)
        case .fieldStructured(let structured, let slot, let converter):
            let structuredTarget = try target(structured)
            var input = JSONValue.object(JSONObject())
            if case .dictionary(let d)? = structuredTarget { input = .object(d.plainJSON) }
            if let value = try converter.convert(input, batch: batch) { try set(value, in: slot) }
            replaceTarget(structured, with: .dictionary(DictionaryTarget()))
        case .setAttributeGroup(let source, let slot):
            // Attribute groups need group-typed attributes, which the schema does not have yet; the values
            // gathered in the source are moved as a JSON document so nothing is lost silently.
            guard case .dictionary(let d)? = try target(source), !d.isEmpty else { return }
            try set(
                .json(slot.name.dataType, .object(d.plainJSON)),
                in: ValueSlot(
                    destination: slot.destination, name: slot.name, multivalue: true, qualifier: slot.qualifier))
            replaceTarget(source, with: .dictionary(DictionaryTarget()))
        case .setValue(let constant, let slot, let converter, let cache):
            if !cache.converted {
                cache.converted = true
                cache.value = try converter.convert(constant, batch: batch)
            }
            if let value = cache.value { try set(value, in: slot) }
        case .removeValues(let destination, let name):
            switch try target(destination) {
            case .object(let o)?: o.values.removeAll { $0.attribute == name }
            case .dictionary(let d)?: d[name] = nil
            case nil: break
            }
        case .ifExists(let source, let then, let otherwise):
            let present = lookup(context, source).map { !$0.isMissing } ?? false
            try run(present ? then : otherwise, context: context)
        case .ifValueOneOf(let source, let values, let then, let otherwise):
            var matches = false
            if let value = lookup(context, source) {
                switch value {
                case .array, .object: matches = false
                default: matches = values.contains(value)
                }
            }
            try run(matches ? then : otherwise, context: context)
        case .ifHasValue(let destination, let name, let then, let otherwise):
            var has = false
            switch try target(destination) {
            case .object(let o)?: has = o.hasValue(name)
            case .dictionary(let d)?: has = d[name] != nil
            case nil: break
            }
            try run(has ? then : otherwise, context: context)
        case .within(let source, let instructions):
            guard let value = lookup(context, source), !value.isMissing, value != .number(0) else { return }
            try run(instructions, context: value)
        case .forEach(let source, let wrapValues, let instructions):
            let elements: [JSONValue]
            switch lookup(context, source) {
            case .array(let a)?: elements = a
            case .object(let o)?: elements = o.values
            default: elements = []
            }
            for element in elements {
                try run(instructions, context: wrapValues ? .object(JSONObject([("value", element)])) : element)
            }
        case .new(let destination):
            guard let d = batch.model.destination(destination) else {
                throw ImportFatalError("Unknown destination: \(destination)")
            }
            retire(destination)
            replaceTarget(destination, with: .blank(for: d))
        case .load(let destination, let using, let otherwise):
            try load(destination, using: using, otherwise: otherwise, context: context)
        case .assertDestination(let destination, let exists):
            guard let d = batch.model.destination(destination), let parent = d.depends else { return }
            guard let parentTarget = try target(parent) else { return }
            let available = try makeAvailable(d, parent: parentTarget) != nil
            if exists != .bool(available) { abort("assert-destination failed: \(destination)") }
        case .abortRecord(let message):
            abort(message)
        case .logError(let message):
            batch.report(message)
        case .delete(let destination):
            // Only a stored object can be deleted: a destination the leaver's last application did
            // not save (or whose object is gone) has nothing to delete, which is no error.
            if case .object(let o)? = existingTarget(destination), !o.isNew, o.ref != nil { o.isDeleting = true }
        case .dropped:
            break
        }
    }

    private func load(_ destination: String, using: String, otherwise: [Instruction]?, context: JSONValue) throws {
        let usingTarget = try target(using)
        guard let d = batch.model.destination(destination) else {
            throw ImportFatalError("Unknown destination: \(destination)")
        }
        retire(destination)
        var loaded: Target?
        if d.kind == .object, case .dictionary(let info)? = usingTarget, case .single(.ref(let ref))? = info["ref"],
            let stored = try batch.repository.object(ref),
            let type = stored.type, d.acceptedTypes.contains(type)
        {
            loaded = .object(ObjectTarget(ref: stored.ref, isNew: false, values: stored.values))
        }
        removeTarget(using)
        if let loaded {
            replaceTarget(destination, with: loaded)
        } else if let otherwise {
            try run(otherwise, context: context)
        } else {
            abort("Couldn't load destination: \(destination)")
        }
    }

    /// Sets a converted value on the slot's target (§4.2 "Setting a value").
    private func set(_ value: AttributeValue, in slot: ValueSlot) throws {
        guard let target = try target(slot.destination.name) else { return }
        switch target {
        case .object(let o):
            let name = slot.name.name
            let new = ObjectValue(attribute: name, qualifier: slot.qualifier, value: value)
            if slot.multivalue {
                o.values.append(new)
            } else if let q = slot.qualifier {
                o.values.removeAll { $0.attribute == name && $0.qualifier == q }
                o.values.append(new)
            } else if let i = o.values.firstIndex(where: { $0.attribute == name }) {
                // Replaced where it stands rather than removed and appended: the same object once
                // stored (values are stored grouped by attribute, and this leaves one value of the
                // attribute), without moving every later value. A loaded object set to what it
                // already holds stays equal to what was loaded, which makes the unchanged test cheap.
                o.values[i] = new
                var later = o.values.count - 1
                while later > i {
                    if o.values[later].attribute == name { o.values.remove(at: later) }
                    later -= 1
                }
            } else {
                o.values.append(new)
            }
        case .dictionary(let d):
            if !slot.name.multivalue {
                d[slot.name.name] = .single(value)
            } else if slot.multivalue, case .multiple(let existing)? = d[slot.name.name] {
                d[slot.name.name] = .multiple(existing + [value])
            } else {
                d[slot.name.name] = .multiple([value])
            }
        }
    }
}
