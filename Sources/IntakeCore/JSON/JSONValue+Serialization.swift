extension JSONValue {
    /// Compact JSON with keys in insertion order, as docs/control-files.md's `<json>` placeholder requires.
    package var compactJSON: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Indented JSON for people to read: keys in their order, `indent` spaces per level, non-ASCII
    /// kept as is, empty arrays and objects on one line.
    package func prettyJSON(indent: Int) -> String {
        var out = ""
        writePretty(to: &out, indent: indent, level: 0)
        return out
    }

    private func writePretty(to out: inout String, indent: Int, level: Int) {
        let inner = String(repeating: " ", count: indent * (level + 1))
        let closing = String(repeating: " ", count: indent * level)
        switch self {
        case .array(let a) where !a.isEmpty:
            out += "[\n"
            for (k, v) in a.enumerated() {
                out += inner
                v.writePretty(to: &out, indent: indent, level: level + 1)
                out += k < a.count - 1 ? ",\n" : "\n"
            }
            out += closing + "]"
        case .object(let o) where !o.keys.isEmpty:
            out += "{\n"
            for (k, (key, v)) in o.pairs.enumerated() {
                out += inner
                JSONValue.writeString(key, to: &out)
                out += ": "
                v.writePretty(to: &out, indent: indent, level: level + 1)
                out += k < o.keys.count - 1 ? ",\n" : "\n"
            }
            out += closing + "}"
        default:
            write(to: &out)
        }
    }

    package func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.isFinite ? JSForm.number(n) : "null"
        case .integer(let n): out += String(n)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out += "["
            for (k, v) in a.enumerated() {
                if k > 0 { out += "," }
                v.write(to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            var first = true
            for (k, v) in o.pairs {
                if !first { out += "," }
                first = false
                JSONValue.writeString(k, to: &out)
                out += ":"
                v.write(to: &out)
            }
            out += "}"
        }
    }

    /// A JSON string as JavaScript's `JSON.stringify` writes it (the short escapes where it has them).
    package static func writeString(_ s: String, to out: inout String) {
        out += "\""
        var needsEscape = false
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C { needsEscape = true; break }
        if !needsEscape {
            out += s
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
        }
        out += "\""
    }

    /// The JavaScript `String(v)` form (docs/control-files.md "JS form").
    package var jsForm: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return JSForm.number(n)
        case .integer(let n): return String(n)
        case .string(let s): return s
        case .array(let a): return a.map { $0.isNullish ? "" : $0.jsForm }.joined(separator: ",")
        case .object: return "[object Object]"
        }
    }

    private var isNullish: Bool {
        if case .null = self { return true }
        return false
    }
}

/// JavaScript's number-to-string rules.
package enum JSForm {
    package static func number(_ n: Double) -> String {
        if n.isNaN { return "NaN" }
        if n.isInfinite { return n < 0 ? "-Infinity" : "Infinity" }
        if n == 0 { return "0" }
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        // Swift's description gives the shortest round-trip digits; re-layout them the way JS does.
        let negative = n < 0
        let text = abs(n).description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(String(text[text.index(after: e)...].filter { $0 != "+" })) ?? 0
        }
        var digits = ""
        var pointPosition = 0
        if let dot = mantissa.firstIndex(of: ".") {
            let intPart = mantissa[..<dot]
            let fracPart = mantissa[mantissa.index(after: dot)...]
            digits = String(intPart) + String(fracPart)
            pointPosition = intPart.count
        } else {
            digits = String(mantissa)
            pointPosition = digits.count
        }
        // Normalise: strip leading zeros (moving the point) and trailing zeros.
        while digits.count > 1, digits.first == "0" { digits.removeFirst(); pointPosition -= 1 }
        while digits.count > 1, digits.last == "0" { digits.removeLast() }
        let k = digits.count
        let nExp = pointPosition + exponent  // value = 0.digits × 10^nExp
        var result: String
        if k <= nExp && nExp <= 21 {
            result = digits + String(repeating: "0", count: nExp - k)
        } else if 0 < nExp && nExp <= 21 {
            let idx = digits.index(digits.startIndex, offsetBy: nExp)
            result = digits[..<idx] + "." + digits[idx...]
        } else if -6 < nExp && nExp <= 0 {
            result = "0." + String(repeating: "0", count: -nExp) + digits
        } else {
            let e = nExp - 1
            let sign = e < 0 ? "-" : "+"
            let head = String(digits.first!)
            let tail = digits.dropFirst()
            result = head + (tail.isEmpty ? "" : "." + tail) + "e" + sign + String(abs(e))
        }
        return negative ? "-" + result : result
    }
}
