/// The identity of a store object. Its textual form is Haplo's: the number in hexadecimal
/// with the digits a–f written q v w x y z (so 32782 is `800y`).
package struct ObjectRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    package let number: Int64

    package init(_ number: Int64) { self.number = number }

    private static let digits: [Character] = Array("0123456789qvwxyz")

    package init?(text: String) {
        guard !text.isEmpty, text.utf8.count <= 15 else { return nil }
        var value: Int64 = 0
        for c in text {
            guard let d = Self.digits.firstIndex(of: c) else { return nil }
            value = value * 16 + Int64(d)
        }
        guard value > 0 else { return nil }
        self.number = value
    }

    package var text: String {
        var n = number
        var out: [Character] = []
        repeat {
            out.append(Self.digits[Int(n % 16)])
            n /= 16
        } while n > 0
        return String(out.reversed())
    }

    package var description: String { text }

    package static func < (a: ObjectRef, b: ObjectRef) -> Bool { a.number < b.number }
}
