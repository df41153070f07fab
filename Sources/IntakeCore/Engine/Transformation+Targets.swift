extension Transformation {
    static let maximumDependencyHops = 16
    static let titleHint =
        "To set defaults for dc:attribute:title, see example of if-has-value instruction at https://docs.haplo.org/import/control/instruction/if-has-value"

    func existingTarget(_ name: String) -> Target? {
        current.first { $0.name == name }?.target
    }

    func replaceTarget(_ name: String, with target: Target) {
        current.removeAll { $0.name == name }
        current.append((name, target))
    }

    func removeTarget(_ name: String) {
        current.removeAll { $0.name == name }
    }

    /// Checks, queues and removes the current target of a destination, as `new` and `load` do.
    func retire(_ name: String) {
        guard let existing = existingTarget(name), let d = batch.model.destination(name) else { return }
        check(existing, of: d)
        queue.append((name, existing))
        removeTarget(name)
    }

    /// `getTarget(D)` of §4.1.
    func target(_ name: String) throws -> Target? {
        try target(name, dependents: [], hops: 0)
    }

    private func target(_ name: String, dependents: [String], hops: Int) throws -> Target? {
        if let existing = existingTarget(name) { return existing }
        guard let d = batch.model.destination(name) else {
            throw ImportFatalError("No destination when requesting target: \(name)")
        }
        var made: Target?
        if let parent = d.depends {
            guard hops < Self.maximumDependencyHops else {
                throw ImportFatalError("getTarget() maximum recursion limit exceeded")
            }
            if let parentTarget = try target(parent, dependents: dependents + [name], hops: hops + 1) {
                made = try makeAvailable(d, parent: parentTarget)
            }
            if made == nil {
                abort("Couldn't make destination \"\(name)\" available from dependency \"\(parent)\"")
            }
        } else if !d.pseudo {
            var message = "Destination \"\(name)\" needs be made ready with a \"new\" or \"load\" instruction"
            if !dependents.isEmpty {
                message += ", required by use of " + dependents.map { $0 + " " }.joined()
            }
            abort(message)
        }
        let result = made ?? .blank(for: d)
        current.append((name, result))
        return result
    }

    /// The make-available hook of dependent destinations (§7.5).
    func makeAvailable(_ d: Destination, parent: Target) throws -> Target? {
        switch d.kind {
        case .object:
            guard let attribute = d.objectDependsWithAttribute else { return nil }
            if case .object(let p) = parent, !p.isNew, let ref = p.ref,
                let linked = try batch.repository.oldestObject(linkingTo: ref, through: attribute, types: d.acceptedTypes)
            {
                return .object(ObjectTarget(ref: linked.ref, isNew: false, values: linked.values))
            }
            return .object(ObjectTarget(isNew: true))
        case .dictionary:
            // Our dictionary destinations have no plugin hooks; a dependent dictionary starts empty.
            return .dictionary(DictionaryTarget())
        }
    }

    /// The per-target check of §7.6. Returns false when it aborted the record.
    @discardableResult
    func check(_ target: Target, of d: Destination) -> Bool {
        switch target {
        case .object(let o):
            if d.name(StandardSchema.titleAttribute)?.required == true, !o.hasValue(StandardSchema.titleAttribute) {
                abort("\(StandardSchema.titleAttribute) is not set in object \(d.name)")
                if !batch.titleHintReported {
                    batch.titleHintReported = true
                    batch.report(Self.titleHint)
                }
                return false
            }
        case .dictionary(let dict):
            let missing = d.nameOrder.filter { d.names[$0]!.required && dict[$0] == nil }
            if !missing.isEmpty {
                abort(
                    "Missing values in \(d.name): " + missing.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }.joined(separator: ", "))
                return false
            }
        }
        return true
    }

    func endOfRecordChecks() {
        for d in batch.model.destinations where !d.pseudo {
            if let t = existingTarget(d.name) {
                check(t, of: d)
            } else if !d.optional {
                abort("No data set in required destination \(d.name)")
            }
        }
    }
}
