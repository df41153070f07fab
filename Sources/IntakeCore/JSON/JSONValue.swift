/// A JSON value that keeps the order of object keys, as control files and records need.
package enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    /// An integer a Double cannot hold exactly (magnitude above 2^53) that fits in 64 bits, as a JSON
    /// text wrote it. Every other number is `.number`, so a value has one form.
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The docs/control-files.md notion of a missing source value: absent, `null`, `false` or `""`.
    package var isMissing: Bool {
        switch self {
        case .null, .bool(false): return true
        case .string(let s): return s.isEmpty
        default: return false
        }
    }

    /// The largest magnitude up to which every integer is exactly a Double.
    package static let largestExactDouble: Int64 = 9_007_199_254_740_992

    /// An integer as a JSON value: `.number` where a Double holds it exactly, else `.integer`.
    package static func exactInteger(_ value: Int64) -> JSONValue {
        value.magnitude <= UInt64(largestExactDouble) ? .number(Double(value)) : .integer(value)
    }

    package var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    package var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    package var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// JavaScript truthiness, used for flags such as `multivalue` and `singleRecord`.
    package var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .number(let n): return n != 0 && !n.isNaN
        case .integer: return true
        case .string(let s): return !s.isEmpty
        case .array, .object: return true
        }
    }

    package subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Whether a string or key anywhere inside contains U+0000.
    package var containsNUL: Bool {
        switch self {
        case .string(let s): return s.utf8.contains(0)
        case .array(let a): return a.contains { $0.containsNUL }
        case .object(let o): return o.keys.contains { $0.utf8.contains(0) } || o.values.contains { $0.containsNUL }
        default: return false
        }
    }

    /// Exact equality: strings compare scalar by scalar, never by canonical equivalence (see
    /// `String.isExactly`), as values compare in JavaScript. (Hashing stays Swift's: canonically
    /// equivalent strings hash alike, which exact equality allows.)
    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.string(let x), .string(let y)): return x.isExactly(y)
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default: return false
        }
    }
}

/// An insertion-ordered JSON object. Records are small, so lookups scan linearly, which beats
/// hashing for the dozen keys a typical record has; an object that grows past `indexedFrom` keys
/// also keeps a hash index of its keys, so building or reading one with many keys (a control file
/// naming thousands of files, a hostile record of 100,000 keys) is linear, not quadratic.
package struct JSONObject: Sendable, Equatable, Hashable {
    package private(set) var keys: [String] = []
    package private(set) var values: [JSONValue] = []
    /// Each key's position, once the object has more than `indexedFrom` keys; nil below that.
    private var positions: [ExactKey: Int]?

    static let indexedFrom = 24

    package init() {}

    package init(_ pairs: [(String, JSONValue)]) {
        for (k, v) in pairs { self[k] = v }
    }

    /// Keys known to be distinct, with their values: no lookups while building.
    init(uniqueKeys keys: [String], values: [JSONValue]) {
        self.keys = keys
        self.values = values
        if keys.count > Self.indexedFrom { reindex() }
    }

    package var count: Int { keys.count }
    package var isEmpty: Bool { keys.isEmpty }

    /// Keys match exactly (`String.isExactly`), as JSON property names do in JavaScript.
    package func index(of key: String) -> Int? {
        if let positions { return positions[ExactKey(key)] }
        return keys.firstIndex { $0.isExactly(key) }
    }

    package static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.keys.count == b.keys.count && zip(a.keys, b.keys).allSatisfy { $0.isExactly($1) } && a.values == b.values
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(keys.count)
        for key in keys { hasher.combine(ExactKey(key)) }
        hasher.combine(values)
    }

    private mutating func append(_ key: String, _ value: JSONValue) {
        keys.append(key)
        values.append(value)
        if positions != nil {
            positions![ExactKey(key)] = keys.count - 1
        } else if keys.count > Self.indexedFrom {
            reindex()
        }
    }

    private mutating func remove(at i: Int) {
        keys.remove(at: i)
        values.remove(at: i)
        if positions != nil { reindex() }
    }

    private mutating func reindex() {
        var positions = [ExactKey: Int](minimumCapacity: keys.count)
        for (i, key) in keys.enumerated() { positions[ExactKey(key)] = i }
        self.positions = keys.count > Self.indexedFrom ? positions : nil
    }

    package subscript(key: String) -> JSONValue? {
        get {
            guard let i = index(of: key) else { return nil }
            return values[i]
        }
        set {
            if let i = index(of: key) {
                if let newValue { values[i] = newValue } else { remove(at: i) }
            } else if let newValue {
                append(key, newValue)
            }
        }
    }

    package var pairs: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }
}

/// Builds an object in which setting a key again moves it to the end (the last value wins, in its
/// own position), in time linear in the number of sets however many keys repeat: removing a key
/// from the middle of a `JSONObject` each time would make a record of many repeated fields
/// quadratic. Reused from record to record, so its storage is allocated once.
package struct LastWinsObjectBuilder {
    private var keys: [String] = []
    private var values: [JSONValue] = []
    private var live: [Bool] = []
    private var positions: [ExactKey: Int] = [:]
    private var repeats = 0

    package init() {}

    package mutating func set(_ key: String, _ value: JSONValue) {
        let exact = ExactKey(key)
        if let old = positions[exact] {
            live[old] = false
            repeats += 1
        }
        positions[exact] = keys.count
        keys.append(key)
        values.append(value)
        live.append(true)
    }

    /// The object built so far; the builder is empty again afterwards.
    package mutating func take() -> JSONObject {
        defer {
            keys.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            live.removeAll(keepingCapacity: true)
            positions.removeAll(keepingCapacity: true)
            repeats = 0
        }
        guard repeats > 0 else { return JSONObject(uniqueKeys: keys, values: values) }
        var liveKeys: [String] = []
        var liveValues: [JSONValue] = []
        liveKeys.reserveCapacity(keys.count - repeats)
        liveValues.reserveCapacity(keys.count - repeats)
        for i in keys.indices where live[i] {
            liveKeys.append(keys[i])
            liveValues.append(values[i])
        }
        return JSONObject(uniqueKeys: liveKeys, values: liveValues)
    }
}
