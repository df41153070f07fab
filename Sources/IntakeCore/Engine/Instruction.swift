/// Where a value instruction puts its value. A class: instructions are matched for every record,
/// and a struct payload would be copied, field by field, each time.
final class ValueSlot {
    let destination: Destination
    let name: NameDefinition
    let multivalue: Bool
    let qualifier: String?

    init(destination: Destination, name: NameDefinition, multivalue: Bool, qualifier: String?) {
        self.destination = destination
        self.name = name
        self.multivalue = multivalue
        self.qualifier = qualifier
    }
}

/// The constant of a `set-value`, converted once per batch on first use (compat).
final class ConstantCache {
    var converted = false
    var value: AttributeValue?
}

/// A prepared instruction (docs/control-files.md §4). Dropped instructions do nothing.
indirect enum Instruction {
    case field(source: String, slot: ValueSlot, converter: ValueConverter)
    case fieldStructured(structured: String, slot: ValueSlot, converter: ValueConverter)
    case setAttributeGroup(source: String, slot: ValueSlot)
    case setValue(value: JSONValue, slot: ValueSlot, converter: ValueConverter, cache: ConstantCache)
    case removeValues(destination: String, name: String)
    case ifExists(source: String, then: [Instruction], else: [Instruction])
    case ifValueOneOf(source: String, values: [JSONValue], then: [Instruction], else: [Instruction])
    case ifHasValue(destination: String, name: String, then: [Instruction], else: [Instruction])
    case within(source: String, instructions: [Instruction])
    case forEach(source: String, wrapValues: Bool, instructions: [Instruction])
    case new(destination: String)
    case load(destination: String, using: String, otherwise: [Instruction]?)
    case assertDestination(destination: String, exists: JSONValue)
    case abortRecord(message: String)
    case logError(message: String)
    /// Leavers only (docs/feeds.md): the loaded object of the destination is deleted on commit.
    case delete(destination: String)
    case dropped
}
