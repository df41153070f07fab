/// The built-in filters of docs/control-files.md §6.
package enum StandardFilters {
    package static let all: [FilterDescriptor] = [
        FilterDescriptor(name: "haplo:string-to-ref", description: "Converts a textual ref to a ref") { StringToRef() },
        FilterDescriptor(name: "haplo:code-to-ref", description: "Finds the object with a configured behaviour") { CodeToRef() },
        FilterDescriptor(name: "haplo:username-to-ref", description: "Finds a person by username") { UsernameToRef() },
        FilterDescriptor(name: "haplo:fix-up-url", description: "Adds https:// to URLs without a scheme") { FixUpURL() },
        FilterDescriptor(name: "haplo:to-lower-case", description: "Lower-cases strings") { CaseMap(upper: false) },
        FilterDescriptor(name: "haplo:to-upper-case", description: "Upper-cases strings") { CaseMap(upper: true) },
        FilterDescriptor(name: "haplo:to-string", description: "Converts any value to text") { ToString() }
    ]

    final class StringToRef: ValueFilter {
        func apply(_ value: FilterValue, repository: any ObjectRepository) -> FilterValue? {
            switch value {
            case .ref: return value
            case .json(.string(let s)): return ObjectRef(text: s).map { .ref($0) }
            default: return nil
            }
        }
    }

    final class CodeToRef: ValueFilter {
        private var cache: [ExactKey: ObjectRef?] = [:]

        func apply(_ value: FilterValue, repository: any ObjectRepository) throws -> FilterValue? {
            switch value {
            case .ref: return value
            case .json(.string(let code)):
                if let cached = cache[ExactKey(code)] {
                    repository.noteCachedAnswer(behaviour: code, ref: cached)
                    return cached.map { .ref($0) }
                }
                let ref = try repository.ref(forBehaviour: code)
                cache[ExactKey(code)] = ref
                return ref.map { .ref($0) }
            default: return nil
            }
        }
    }

    final class UsernameToRef: ValueFilter {
        func apply(_ value: FilterValue, repository: any ObjectRepository) throws -> FilterValue? {
            guard case .json(.string(let name)) = value else { return nil }
            return try repository.ref(forUsername: name.lowercased()).map { .ref($0) }
        }
    }

    final class FixUpURL: ValueFilter {
        func apply(_ value: FilterValue, repository: any ObjectRepository) -> FilterValue? {
            guard case .json(.string(let s)) = value else { return nil }
            if s.utf8.contains(UInt8(ascii: ":")) { return value }
            let u = Array(s.utf8)
            func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
            guard u.count >= 2, isLetter(u[0]) else { return value }
            for b in u.dropFirst()
            where
                !(isLetter(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: ".")
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "/"))
            {
                return value
            }
            return .json(.string("https://" + s))
        }
    }

    final class CaseMap: ValueFilter {
        let upper: Bool
        init(upper: Bool) { self.upper = upper }

        func apply(_ value: FilterValue, repository: any ObjectRepository) -> FilterValue? {
            guard case .json(.string(let s)) = value else { return value }
            return .json(.string(upper ? s.uppercased() : s.lowercased()))
        }
    }

    final class ToString: ValueFilter {
        func apply(_ value: FilterValue, repository: any ObjectRepository) -> FilterValue? {
            .json(.string(value.jsForm))
        }
    }
}
