/// One change a committed record made, for per-record results (§7.8).
package struct RecordChange: Sendable, Equatable {
    package var destination: String
    /// Nil for a dictionary document, and for a new object in a dry run (no ref is allocated).
    package var ref: ObjectRef?
    package var isNew: Bool
    package var outcome: SaveOutcome?
    package var isDocument = false
    /// The attributes whose values the save changed (all of a new object's), in the order they
    /// first appear.
    package var diff: [AttributeDiff] = []
}

/// One attribute a save changed: its values before and after, in order.
package struct AttributeDiff: Sendable, Equatable {
    package var attribute: String
    package var before: [ObjectValue]
    package var after: [ObjectValue]

    /// The attributes whose value lists differ between `before` and `after`, in the order they first
    /// appear (`before`'s first). An object has a dozen or so attributes and each one's values mostly
    /// come together, so an attribute is found by comparing it with the one before, then with the
    /// few seen so far, instead of hashing every value's attribute name into two dictionaries, which
    /// was 8% of a plain import's run thread (docs/DECISIONS.md, "Performance, round two").
    package static func between(_ before: [ObjectValue], _ after: [ObjectValue]) -> [AttributeDiff] {
        var diffs: [AttributeDiff] = []
        for value in before {
            let index = slot(value.attribute, in: &diffs)
            diffs[index].before.append(value)
        }
        for value in after {
            let index = slot(value.attribute, in: &diffs)
            diffs[index].after.append(value)
        }
        diffs.removeAll { $0.before == $0.after }
        return diffs
    }

    /// The index of `attribute`'s entry in `diffs`, added when there is none.
    private static func slot(_ attribute: String, in diffs: inout [AttributeDiff]) -> Int {
        if let last = diffs.indices.last, diffs[last].attribute == attribute { return last }
        if let found = diffs.firstIndex(where: { $0.attribute == attribute }) { return found }
        diffs.append(AttributeDiff(attribute: attribute, before: [], after: []))
        return diffs.count - 1
    }
}

extension Transformation {
    /// Writes the record's targets (§7.7): the queued ones, then the current ones; pseudo-destinations
    /// are skipped. Call only for complete records and never in a dry run; the caller wraps this in a
    /// transaction so the record is atomic.
    package func commit() throws -> [RecordChange] {
        var changes: [RecordChange] = []
        for (name, target) in [queue, current].joined() {
            guard let d = batch.model.destination(name), !d.pseudo else { continue }
            switch target {
            case .object(let o):
                if let change = try commitObject(o, of: d) { changes.append(change) }
            case .dictionary(let dict):
                try batch.repository.appendDocument(
                    model: batch.model.name, destination: name,
                    record: identifier, values: dict.plainJSON)
                changes.append(RecordChange(destination: name, ref: nil, isNew: true, outcome: .created, isDocument: true))
            }
        }
        return changes
    }

    /// What `commit()` would write, worked out without writing anything (a dry run): each object's
    /// outcome as the store would decide it, compared with what it holds now.
    package func plannedChanges() throws -> [RecordChange] {
        var changes: [RecordChange] = []
        for (name, target) in [queue, current].joined() {
            guard let d = batch.model.destination(name), !d.pseudo else { continue }
            switch target {
            case .object(let o):
                if o.type == nil && d.annotatedTypes != nil {
                    abort("annotatedTypes used but target has no type defined")
                    continue
                }
                var values = o.values
                if o.type == nil, let type = d.objectType {
                    values.append(ObjectValue(attribute: StandardSchema.typeAttribute, value: .objectType(type)))
                }
                var linksToNewParent = false
                if let attribute = d.objectDependsWithAttribute, !o.hasValue(attribute), let parent = d.depends,
                    case .object(let p)? = existingTarget(parent)
                {
                    if let ref = p.ref, !p.isNew {
                        values.append(ObjectValue(attribute: attribute, value: .ref(ref)))
                    } else {
                        linksToNewParent = true
                    }
                }
                if o.isDeleting, let ref = o.ref {
                    let outcome: SaveOutcome = try batch.repository.object(ref) == nil ? .unchanged : .deleted
                    changes.append(
                        RecordChange(
                            destination: d.name, ref: ref, isNew: false, outcome: outcome,
                            diff: outcome == .unchanged ? [] : AttributeDiff.between(o.original, values)))
                    continue
                }
                guard let ref = o.ref, !o.isNew else {
                    changes.append(
                        RecordChange(destination: d.name, ref: o.ref, isNew: true, outcome: .created, diff: AttributeDiff.between([], values)))
                    continue
                }
                var outcome = try batch.repository.plannedOutcome(ref: ref, values: values)
                // The real run links it to a ref allocated then, which nothing stored holds yet.
                if linksToNewParent && outcome == .unchanged { outcome = .updated }
                changes.append(
                    RecordChange(
                        destination: d.name, ref: ref, isNew: false, outcome: outcome,
                        diff: outcome == .unchanged ? [] : AttributeDiff.between(o.original, values)))
            case .dictionary:
                changes.append(RecordChange(destination: name, ref: nil, isNew: true, outcome: .created, isDocument: true))
            }
        }
        return changes
    }

    /// How many targets `commit()` would write: a caller needs a savepoint only when it is above one.
    package var targetsToCommit: Int {
        var count = 0
        for list in [queue, current] {
            for entry in list where batch.model.isCommitted(entry.name) { count += 1 }
        }
        return count
    }

    private func commitObject(_ o: ObjectTarget, of d: Destination) throws -> RecordChange? {
        if o.type == nil {
            if d.annotatedTypes != nil {
                abort("annotatedTypes used but target has no type defined")
                return nil
            }
            if let type = d.objectType {
                o.values.append(ObjectValue(attribute: StandardSchema.typeAttribute, value: .objectType(type)))
            }
        }
        if let attribute = d.objectDependsWithAttribute, !o.hasValue(attribute), let parent = d.depends,
            case .object(let p)? = existingTarget(parent)
        {
            if p.ref == nil { p.ref = try batch.repository.allocateRef() }
            o.values.append(ObjectValue(attribute: attribute, value: .ref(p.ref!)))
        }
        if o.ref == nil { o.ref = try batch.repository.allocateRef() }
        let outcome =
            o.isDeleting
            ? try batch.repository.delete(ref: o.ref!, values: o.values)
            : try batch.repository.save(ref: o.ref!, values: o.values, isNew: o.isNew)
        return RecordChange(
            destination: d.name, ref: o.ref, isNew: o.isNew, outcome: outcome,
            diff: outcome == .unchanged ? [] : AttributeDiff.between(o.original, o.values))
    }
}
