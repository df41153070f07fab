/// One change a committed record made, for per-record results (§7.8).
package struct RecordChange: Sendable, Equatable {
    package var destination: String
    package var ref: ObjectRef?
    package var isNew: Bool
    package var outcome: SaveOutcome?
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
                changes.append(RecordChange(destination: name, ref: nil, isNew: true, outcome: .created))
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
        let outcome = try batch.repository.save(ref: o.ref!, values: o.values, isNew: o.isNew)
        return RecordChange(destination: d.name, ref: o.ref, isNew: o.isNew, outcome: outcome)
    }
}
