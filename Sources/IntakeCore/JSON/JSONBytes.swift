/// A small JSON writer over a byte buffer.
package struct JSONBytes: Sendable {
    package private(set) var bytes: [UInt8] = []

    package init() { bytes.reserveCapacity(512) }

    package var text: String { String(decoding: bytes, as: UTF8.self) }

    package mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    /// Literal punctuation and keys: copied from the binary without making a String.
    package mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// `,"key":"value"`; keys are literals that need no escaping.
    package mutating func field(_ key: StaticString, _ value: String) {
        bytes.append(UInt8(ascii: ","))
        bytes.append(UInt8(ascii: "\""))
        raw(key)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        string(value)
    }

    package mutating func field(_ key: String, _ value: String) {
        bytes.append(UInt8(ascii: ","))
        string(key)
        bytes.append(UInt8(ascii: ":"))
        string(value)
    }

    package mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most values need no escaping: copy them in one go, straight from the string's storage.
        let copied: Bool? = s.utf8.withContiguousStorageIfAvailable { buffer in
            for b in buffer where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
            bytes.append(contentsOf: buffer)
            return true
        }
        if copied == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
