import Testing

@testable import IntakeCore

/// `AttributeDiff.between` finds attributes by a linear search instead of dictionaries; its answer
/// must be the dictionaries' on any lists: attributes interleaved, repeated, in one list only,
/// values reordered, qualifiers that differ.
@Suite struct AttributeDiffTests {
    /// The definition: per attribute in order of first appearance, the values before and after,
    /// kept when they differ.
    static func reference(_ before: [ObjectValue], _ after: [ObjectValue]) -> [AttributeDiff] {
        var order: [String] = []
        var old: [String: [ObjectValue]] = [:]
        var new: [String: [ObjectValue]] = [:]
        for value in before {
            if old[value.attribute] == nil && new[value.attribute] == nil { order.append(value.attribute) }
            old[value.attribute, default: []].append(value)
        }
        for value in after {
            if old[value.attribute] == nil && new[value.attribute] == nil { order.append(value.attribute) }
            new[value.attribute, default: []].append(value)
        }
        return order.compactMap { attribute in
            let (b, a) = (old[attribute] ?? [], new[attribute] ?? [])
            return b == a ? nil : AttributeDiff(attribute: attribute, before: b, after: a)
        }
    }

    @Test func theDiffIsTheDefinitionsOnRandomLists() {
        var random = SystemRandomNumberGenerator()
        let attributes = ["dc:attribute:title", "std:attribute:email", "a", "b", "std:attribute:telephone-number"]
        func list() -> [ObjectValue] {
            (0..<Int.random(in: 0..<12, using: &random)).map { _ in
                ObjectValue(
                    attribute: attributes.randomElement(using: &random)!,
                    qualifier: Bool.random(using: &random) ? nil : "q",
                    value: .text(.text, String(Int.random(in: 0..<3, using: &random))))
            }
        }
        for _ in 0..<2000 {
            let before = list()
            // Mostly a variation of `before`, as a save's lists are.
            var after = Bool.random(using: &random) ? before : list()
            if !after.isEmpty && Bool.random(using: &random) { after.swapAt(0, after.count - 1) }
            if Bool.random(using: &random) { after += list() }
            #expect(AttributeDiff.between(before, after) == Self.reference(before, after), "\(before) → \(after)")
        }
        #expect(AttributeDiff.between([], []).isEmpty)
    }
}
