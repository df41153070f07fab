/// A syntax error at a byte offset of the parsed text.
package struct JSONSyntaxError: Error, Sendable, Equatable {
    package var message: String
    package var offset: Int
}

/// A strict RFC 8259 parser over UTF-8 bytes that keeps object key order.
/// Duplicate keys keep their first position and the last value, as JavaScript does.
package struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0
    /// False when only checking well-formedness: nothing is allocated for values.
    private let building: Bool

    private init(_ bytes: UnsafeBufferPointer<UInt8>, building: Bool = true) {
        self.bytes = bytes
        self.building = building
    }

    /// Checks that the bytes are one well-formed JSON document, without building it.
    package static func validate(_ bytes: [UInt8]) throws(JSONSyntaxError) {
        do {
            try bytes.withUnsafeBufferPointer { buffer in try validate(buffer) }
        } catch let error as JSONSyntaxError {
            throw error
        } catch {
            throw JSONSyntaxError(message: "\(error)", offset: 0)
        }
    }

    package static func validate(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) {
        var parser = JSONParser(buffer, building: false)
        parser.skipWhitespace()
        _ = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.i < buffer.count { throw parser.error("Unexpected data after the JSON value") }
    }

    /// Parses one complete JSON document; a leading UTF-8 BOM is skipped.
    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes)
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { parser.i = 3 }
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.i < bytes.count { throw parser.error("Unexpected data after the JSON value") }
        return value
    }

    /// Parses the object or array at the start of `bytes`, which may go on past it, and returns it
    /// with the number of bytes it took; nil when there is none, it is malformed, or it does not end
    /// within `bytes`. Readers use it on their buffer and fall back to `parse` for the error message.
    /// With `building` false it only checks, and returns `.null`.
    static func parsePrefix(_ bytes: UnsafeBufferPointer<UInt8>, building: Bool) -> (value: JSONValue, length: Int)? {
        guard let first = bytes.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        var parser = JSONParser(bytes, building: building)
        guard let value = try? parser.parseValue(depth: 0) else { return nil }
        return (value, parser.i)
    }

    package static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        do {
            return try bytes.withUnsafeBufferPointer { buffer in try parse(buffer) }
        } catch let error as JSONSyntaxError {
            throw error
        } catch {
            throw JSONSyntaxError(message: "\(error)", offset: 0)
        }
    }

    package static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private static let maximumDepth = 512

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: message, offset: i)
    }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard i < bytes.count else { throw error("Unexpected end of JSON") }
        if depth > Self.maximumDepth { throw error("JSON nested too deeply") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("Unexpected character '\(Self.describe(bytes[i]))'")
        }
    }

    private static func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\u{\(String(byte, radix: 16))}"
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        guard i + count <= bytes.count else { throw error("Invalid literal") }
        for k in 0..<count where bytes[i + k] != start[k] { throw error("Invalid literal") }
        i += count
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        i += 1
        var object = JSONObject()
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("Expected a string key in object") }
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("Expected ':' after object key") }
            i += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            if building { object[key] = value }
            skipWhitespace()
            guard i < bytes.count else { throw error("Unexpected end of JSON in object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
            throw error("Expected ',' or '}' in object")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        i += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(array) }
        while true {
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            if building { array.append(value) }
            skipWhitespace()
            guard i < bytes.count else { throw error("Unexpected end of JSON in array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(array) }
            throw error("Expected ',' or ']' in array")
        }
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        i += 1
        let start = i
        // Fast path: no escapes. ASCII-only strings (most of them) need no UTF-8 validation.
        var highBits: UInt8 = 0
        while i < bytes.count {
            let b = bytes[i]
            highBits |= b
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<i])
                i += 1
                if highBits < 0x80 {
                    return building ? String(decoding: slice, as: UTF8.self) : ""
                }
                if !building {
                    try Self.checkUTF8(slice, offset: start)
                    return ""
                }
                return try Self.decodeUTF8(slice, offset: start)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("Control character in string") }
            i += 1
        }
        var scratch = Array(bytes[start..<i])
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return try scratch.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
                    try Self.decodeUTF8(buffer, offset: start)
                }
            }
            if b < 0x20 { throw error("Control character in string") }
            if b != UInt8(ascii: "\\") { scratch.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw error("Unpaired surrogate in string")
                    }
                    i += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("Unpaired surrogate in string") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("Unpaired surrogate in string")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw error("Invalid unicode escape") }
                scratch.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw error("Invalid escape in string")
            }
        }
        throw error("Unterminated string")
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("Invalid unicode escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error("Invalid unicode escape")
            }
            value = value << 4 | UInt32(digit)
            i += 1
        }
        return value
    }

    /// Validates UTF-8 without making a String; ASCII, the common case, is checked byte by byte.
    private static func checkUTF8(_ buffer: UnsafeBufferPointer<UInt8>, offset: Int) throws(JSONSyntaxError) {
        for b in buffer where b >= 0x80 {
            _ = try decodeUTF8(buffer, offset: offset)
            return
        }
    }

    private static func decodeUTF8(_ buffer: UnsafeBufferPointer<UInt8>, offset: Int) throws(JSONSyntaxError) -> String {
        if let s = String(validating: buffer, as: UTF8.self) { return s }
        throw JSONSyntaxError(message: "Invalid UTF-8 in string", offset: offset)
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { throw error("Invalid number") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[i]) {
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
        } else {
            throw error("Invalid number")
        }
        var isInteger = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            let digitsStart = i
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
            if i == digitsStart { throw error("Invalid number") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            let digitsStart = i
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
            if i == digitsStart { throw error("Invalid number") }
        }
        // Small integers are the common case in records; avoid the generic float parser.
        if isInteger, i - start <= 15 {
            var value: Int64 = 0
            var k = start
            let negative = bytes[k] == UInt8(ascii: "-")
            if negative { k += 1 }
            while k < i { value = value * 10 + Int64(bytes[k] - UInt8(ascii: "0")); k += 1 }
            return .number(Double(negative ? -value : value))
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        // An integer past 2^53 keeps its exact value when it fits in 64 bits.
        if isInteger, let exact = Int64(text) { return .exactInteger(exact) }
        guard let value = Double(text) else { throw JSONSyntaxError(message: "Invalid number", offset: start) }
        return .number(value)
    }
}

extension JSONParser {
    /// Keys looked for by `forEachObject`, as bytes.
    package struct KeySet: Sendable {
        fileprivate let keys: [[UInt8]]
        package var count: Int { keys.count }

        /// ASCII keys without characters JSON escapes; a key's position is its index here.
        package init(_ keys: [String]) { self.keys = keys.map { Array($0.utf8) } }

        fileprivate func position(of key: UnsafeBufferPointer<UInt8>) -> Int? {
            for (position, candidate) in keys.enumerated() where candidate.count == key.count && candidate.elementsEqual(key) {
                return position
            }
            return nil
        }
    }

    /// Reads a JSON array of objects member by member, without building the objects: `body` gets
    /// each object's values by their key's position in `keys` (nil when absent; a repeated key keeps
    /// its last value, as `parse` does; other keys are skipped). Returns false when the text is not
    /// such an array, is malformed, or has an escaped key: the caller then starts again with `parse`
    /// (what `body` was given before that is to be thrown away).
    package static func forEachObject(
        inArray bytes: UnsafeBufferPointer<UInt8>, keys: KeySet, _ body: ([JSONValue?]) -> Void
    ) -> Bool {
        var parser = JSONParser(bytes)
        var members = [JSONValue?](repeating: nil, count: keys.count)
        do {
            parser.skipWhitespace()
            guard parser.next(is: "[") else { return false }
            parser.skipWhitespace()
            if parser.next(is: "]") { return parser.atEnd }
            while true {
                parser.skipWhitespace()
                guard parser.next(is: "{") else { return false }
                for k in members.indices { members[k] = nil }
                parser.skipWhitespace()
                if !parser.next(is: "}") {
                    while true {
                        parser.skipWhitespace()
                        guard let key = parser.plainKey() else { return false }
                        parser.skipWhitespace()
                        guard parser.next(is: ":") else { return false }
                        parser.skipWhitespace()
                        let value = try parser.parseValue(depth: 2)
                        if let position = keys.position(of: key) { members[position] = value }
                        parser.skipWhitespace()
                        if parser.next(is: ",") { continue }
                        guard parser.next(is: "}") else { return false }
                        break
                    }
                }
                body(members)
                parser.skipWhitespace()
                if parser.next(is: ",") { continue }
                guard parser.next(is: "]") else { return false }
                return parser.atEnd
            }
        } catch {
            return false
        }
    }

    private mutating func next(is character: Unicode.Scalar) -> Bool {
        guard i < bytes.count, bytes[i] == UInt8(ascii: character) else { return false }
        i += 1
        return true
    }

    private var atEnd: Bool {
        mutating get {
            skipWhitespace()
            return i == bytes.count
        }
    }

    /// The bytes of an ASCII key without escapes or control characters; nil otherwise (`parse`
    /// decides what those mean).
    private mutating func plainKey() -> UnsafeBufferPointer<UInt8>? {
        guard next(is: "\"") else { return nil }
        let start = i
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return UnsafeBufferPointer(rebasing: bytes[start..<i - 1])
            }
            if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { return nil }
            i += 1
        }
        return nil
    }
}
