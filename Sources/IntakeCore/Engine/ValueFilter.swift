/// A value flowing through filters: JSON from the record, or a ref produced by a ref filter.
package enum FilterValue: Sendable, Equatable {
    case json(JSONValue)
    case ref(ObjectRef)

    /// The JS form; refs give their textual form.
    package var jsForm: String {
        switch self {
        case .json(let v): return v.jsForm
        case .ref(let r): return r.text
        }
    }

    var isNull: Bool {
        if case .json(.null) = self { return true }
        return false
    }
}

/// A named one-argument function applied to values (docs/control-files.md §6). One instance is made per
/// batch, on first use, and shared by every instruction naming it, so a filter may keep state.
package protocol ValueFilter: AnyObject {
    /// Returns nil to drop the value.
    func apply(_ value: FilterValue, repository: any ObjectRepository) throws -> FilterValue?
}

/// A filter registered under a name, with what the UI and docs show about it.
package struct FilterDescriptor: Sendable {
    package var name: String
    package var description: String
    package var documentationURL: String?
    package var make: @Sendable () -> any ValueFilter

    package init(
        name: String, description: String, documentationURL: String? = nil,
        make: @escaping @Sendable () -> any ValueFilter
    ) {
        self.name = name
        self.description = description
        self.documentationURL = documentationURL
        self.make = make
    }
}
