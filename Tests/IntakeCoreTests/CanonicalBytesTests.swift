import Testing

@testable import IntakeCore

/// A feed remembers each record by a hash of these bytes (docs/feeds.md "What a feed remembers"):
/// changing them makes every feed transform every record once more, so the form is pinned here.
@Suite struct CanonicalBytesTests {
    private func length(_ count: Int) -> [UInt8] { withUnsafeBytes(of: UInt64(count).littleEndian) { Array($0) } }
    private func text(_ s: String) -> [UInt8] { length(s.utf8.count) + Array(s.utf8) }

    @Test func everyKindOfValueHasItsTaggedForm() {
        let value = JSONValue.object(
            JSONObject([
                ("id", .string("S1")), ("n", .integer(-2)), ("x", .array([.bool(true), .bool(false), .null, .number(1.5)])),
                ("é", .object(JSONObject([("ü", .string("")), ("k", .string("a\u{0}b"))])))
            ]))
        var bytes: [UInt8] = []
        value.appendCanonicalBytes(to: &bytes)
        var expected: [UInt8] = [7] + length(4)
        expected += text("id") + [5] + text("S1")
        expected += text("n") + [4] + withUnsafeBytes(of: UInt64(bitPattern: -2).littleEndian) { Array($0) }
        expected += text("x") + [6] + length(4) + [2, 1, 0, 3] + withUnsafeBytes(of: (1.5).bitPattern.littleEndian) { Array($0) }
        expected += text("é") + [7] + length(2) + text("ü") + [5] + text("") + text("k") + [5] + text("a\u{0}b")
        #expect(bytes == expected)
    }

    @Test func keyOrderAndBridgedStringsCount() {
        func bytes(_ value: JSONValue) -> [UInt8] {
            var out: [UInt8] = []
            value.appendCanonicalBytes(to: &out)
            return out
        }
        let ab = JSONValue.object(JSONObject([("a", .string("1")), ("b", .string("2"))]))
        let ba = JSONValue.object(JSONObject([("b", .string("2")), ("a", .string("1"))]))
        #expect(bytes(ab) != bytes(ba))
        // A string cut from a longer one has the bytes of the same literal.
        let sliced = String(Substring("xxhello".dropFirst(2)))
        #expect(bytes(.string(sliced)) == bytes(.string("hello")))
    }
}
