/// The identity of a store object. Its textual form is Haplo's: the number in hexadecimal
/// with the digits a–f written q v w x y z (so 32782 is `800y`).
package struct ObjectRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    package let number: Int64

    package init(_ number: Int64) { self.number = number }

    package init?(text: String) {
        guard !text.isEmpty, text.utf8.count <= 15 else { return nil }
        var value: Int64 = 0
        for byte in text.utf8 {
            guard let d = Self.digits.firstIndex(of: byte) else { return nil }
            value = value * 16 + Int64(d)
        }
        guard value > 0 else { return nil }
        self.number = value
    }

    package var text: String {
        // Written as ASCII bytes: every result line and every stored link makes one.
        var n = UInt64(bitPattern: number)
        var length = 1
        while n >> (4 * UInt64(length)) > 0 && length < 16 { length += 1 }
        return String(unsafeUninitializedCapacity: length) { buffer in
            for position in (0..<length).reversed() {
                buffer[position] = Self.digits[Int(n & 15)]
                n >>= 4
            }
            return length
        }
    }

    /// The sixteen digits, as ASCII.
    private static let digits: [UInt8] = Array("0123456789qvwxyz".utf8)

    package var description: String { text }

    package static func < (a: ObjectRef, b: ObjectRef) -> Bool { a.number < b.number }
}
