extension JSONValue {
    /// Appends an unambiguous byte form of the value (a type tag, then lengths and UTF-8 bytes),
    /// for hashing: two values have the same bytes exactly when they are equal, key order included.
    /// Cheaper than writing JSON text, which escapes every string character by character.
    package func appendCanonicalBytes(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(0)
        case .bool(let b): out.append(b ? 2 : 1)
        case .number(let n):
            out.append(3)
            appendInteger(n.bitPattern, to: &out)
        case .integer(let i):
            out.append(4)
            appendInteger(UInt64(bitPattern: i), to: &out)
        case .string(let s):
            out.append(5)
            appendString(s, to: &out)
        case .array(let items):
            out.append(6)
            appendInteger(UInt64(items.count), to: &out)
            for item in items { item.appendCanonicalBytes(to: &out) }
        case .object(let object):
            out.append(7)
            let (keys, values) = (object.keys, object.values)
            appendInteger(UInt64(keys.count), to: &out)
            // By index over the two arrays: the pairs' iterator retained and released each key and
            // value, a third of the digest's time on a feed's unchanged night.
            for index in keys.indices {
                appendString(keys[index], to: &out)
                values[index].appendCanonicalBytes(to: &out)
            }
        }
    }

    // Both are on a feed's per-record path (its records' digests): one copy of the bytes each,
    // rather than a byte at a time.
    private func appendInteger(_ value: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
    }

    private func appendString(_ s: String, to out: inout [UInt8]) {
        // Native strings (every reader makes them) lend their UTF-8 without a copy.
        let appended: Void? = s.utf8.withContiguousStorageIfAvailable { bytes in
            appendInteger(UInt64(bytes.count), to: &out)
            out.append(contentsOf: bytes)
        }
        if appended == nil {
            appendInteger(UInt64(s.utf8.count), to: &out)
            out.append(contentsOf: s.utf8)
        }
    }
}
