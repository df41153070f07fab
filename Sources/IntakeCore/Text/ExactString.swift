extension String {
    /// Whether both strings have the same Unicode scalars in the same order. Swift's `==` treats
    /// canonically equivalent strings as equal ("café" written with é, or with e and a combining
    /// accent); the control-file language compares input exactly, code unit by code unit, as the
    /// original system does, so matching input values against a list or a mapping uses this.
    @inlinable
    package func isExactly(_ other: String) -> Bool {
        let (a, b) = (utf8, other.utf8)
        guard a.count == b.count else { return false }
        let fast = a.withContiguousStorageIfAvailable { pa in
            b.withContiguousStorageIfAvailable { pb in pa.elementsEqual(pb) }
        }
        if let fast, let equal = fast { return equal }
        return a.elementsEqual(b)
    }
}

/// A dictionary key that compares strings exactly (see `String.isExactly`), for maps from input
/// values: a `Dictionary<String, …>` would let canonically equivalent input match.
package struct ExactKey: Hashable, Sendable {
    package let text: String

    package init(_ text: String) { self.text = text }

    package static func == (a: ExactKey, b: ExactKey) -> Bool { a.text.isExactly(b.text) }

    package func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
