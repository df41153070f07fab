/// Builds the data-type step of a converter (docs/control-files.md#data-types). Returns nil after reporting a
/// preparation error, which drops the instruction.
enum DataTypeConverters {
    typealias Convert = (FilterValue, ImportBatch) throws -> AttributeValue?

    static func make(_ type: DataType, instruction: JSONObject, details d: String, batch: ImportBatch) -> Convert? {
        switch type {
        case .text:
            return { value, _ in
                switch value {
                case .json(.string(let s)): return .text(.text, s)
                case .json(.number), .json(.integer), .json(.bool): return .text(.text, value.jsForm)
                default: return nil
                }
            }
        case .textParagraph, .textMultiline, .configurationName, .isbn:
            return { value, _ in
                switch value {
                case .json(.string(let s)) where !s.isEmpty: return .text(type, s)
                case .json(.number(let n)) where n != 0: return .text(type, value.jsForm)
                case .json(.integer): return .text(type, value.jsForm)
                case .json(.bool(true)): return .text(type, "true")
                default: return nil
                }
            }
        case .datetime:
            guard case .string(let pattern)? = instruction["dateFormat"] else {
                batch.reportPreparation("Date format not specified for \(d)")
                return nil
            }
            let format: DateFormat
            do {
                format = try DateFormat(pattern: pattern)
            } catch {
                batch.reportPreparation("Invalid date format for \(d): \(pattern) (\(error.message))")
                return nil
            }
            return { value, batch in
                guard case .json(.string(let s)) = value else { return nil }
                guard let parsed = format.parse(s) else {
                    batch.report("Invalid date value for \(d): \(s)")
                    return nil
                }
                return .datetime(seconds: parsed.seconds, milliseconds: parsed.milliseconds, dateOnly: format.isDateOnly)
            }
        case .boolean:
            let trueValue = instruction["trueValue"].flatMap { $0.isMissing ? nil : $0.jsForm } ?? "true"
            let falseValue = instruction["falseValue"].flatMap { $0.isMissing ? nil : $0.jsForm } ?? "false"
            return { value, batch in
                switch value {
                case .json(.bool(let b)): return .boolean(b)
                case .json(.string(let s)) where s == trueValue: return .boolean(true)
                case .json(.string(let s)) where s == falseValue: return .boolean(false)
                default:
                    batch.report("Invalid boolean value for \(d): \(value.jsForm)")
                    return nil
                }
            }
        case .integer:
            return { value, batch in
                if let i = integerValue(value) { return .integer(i) }
                batch.report("Invalid integer for \(d): \(value.jsForm)")
                return nil
            }
        case .number:
            return { value, batch in
                switch value {
                case .json(.number(let n)): return .number(n)
                case .json(.integer(let n)): return .number(Double(n))
                case .json(.string(let s)):
                    if let n = JSNumberParsing.parseFloat(s), !n.isNaN { return .number(n) }
                default: break
                }
                batch.report("Invalid number for \(d): \(value.jsForm)")
                return nil
            }
        case .ref:
            return RefMapping.makeConverter(instruction: instruction, details: d, batch: batch)
        case .objectType:
            return { value, batch in
                guard case .json(.string(let code)) = value, batch.schema.types[code] != nil else { return nil }
                return .objectType(code)
            }
        case .json:
            return { value, _ in
                switch value {
                case .json(.array), .json(.object):
                    if case .json(let v) = value { return .json(.json, v) }
                    return nil
                default: return nil
                }
            }
        case .emailAddress:
            return { value, batch in
                guard case .json(.string(let s)) = value else { return nil }
                // By bytes: a Character search forms every character before the `@`.
                if let at = s.utf8.firstIndex(of: UInt8(ascii: "@")), at > s.startIndex { return .text(.emailAddress, s) }
                batch.report("Invalid email address for \(d): \(s)")
                return nil
            }
        case .url:
            return { value, batch in
                guard case .json(.string(let s)) = value else { return nil }
                if hasURLScheme(s) { return .text(.url, s) }
                batch.report("Invalid URL for \(d): \(s)")
                return nil
            }
        case .telephoneNumber:
            let country = instruction["country"]?.stringValue ?? "GB"
            return { value, _ in
                guard case .json(.string(let s)) = value else { return nil }
                let number = TelephoneNumber.parse(s, defaultCountry: country)
                return .telephone(text: number.text, e164: number.e164, phoneExtension: number.extension)
            }
        case .personName:
            return { value, _ in
                guard case .json(.object(let o)) = value else { return nil }
                func field(_ k: String) -> String? {
                    guard let v = o[k], !v.isMissing else { return nil }
                    return v.jsForm
                }
                guard let last = field("last") else { return nil }
                return .personName(
                    PersonName(
                        title: field("title"), first: field("first"), middle: field("middle"),
                        last: last, suffix: field("suffix")))
            }
        case .postalAddress:
            return { value, batch in
                guard case .json(.object(let o)) = value else { return nil }
                guard case .string(let country)? = o["country"], country.count == 2 else {
                    batch.report(
                        "Missing or invalid country code in postal address, must be two letter ISO code: \(value.jsForm == "[object Object]" ? JSONValue.object(o).compactJSON : value.jsForm)"
                    )
                    return nil
                }
                // The original refused a dictionary with any other key, naming the first one.
                if let unknown = o.keys.first(where: { !PostalAddress.keys.contains($0) }) {
                    batch.report(
                        "Invalid postal address: \(JSONValue.object(o).compactJSON) (Invalid key '\(unknown)' in dictionary passed to O.text(O.T_IDENTIFIER_POSTAL_ADDRESS,...))"
                    )
                    return nil
                }
                guard CountryCodes.isRecognised(country) else {
                    batch.report("Invalid postal address: \(JSONValue.object(o).compactJSON) (Postal addresses must use a recognised country)")
                    return nil
                }
                func field(_ k: String) -> String? {
                    guard let v = o[k], !v.isMissing else { return nil }
                    return v.jsForm
                }
                return .postalAddress(
                    PostalAddress(
                        street1: field("street1"), street2: field("street2"), city: field("city"),
                        county: field("county"), postcode: field("postcode"), country: country))
            }
        case .textDocument, .file, .postcode, .plugin:
            return { value, _ in
                if case .json(let v) = value {
                    switch v {
                    case .array, .object: return .json(type, v)
                    default: return nil
                    }
                }
                return nil
            }
        }
    }

    /// An integer exactly as written: a JSON integer that fits in 64 bits, or a string in canonical
    /// decimal (`0`, or an optional `-` and digits without a leading zero) that fits in 64 bits.
    static func integerValue(_ value: FilterValue) -> Int64? {
        switch value {
        case .json(.number(let n)):
            guard n == n.rounded(), n.magnitude <= Double(JSONValue.largestExactDouble) else { return nil }
            return Int64(n)
        case .json(.integer(let n)):
            return n
        case .json(.string(let s)):
            let u = s.utf8
            if u.elementsEqual([UInt8(ascii: "0")]) { return 0 }
            let digits = u.first == UInt8(ascii: "-") ? u.dropFirst() : u[...]
            guard let first = digits.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9"),
                digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            else { return nil }
            return Int64(s)  // nil past 64 bits
        default:
            return nil
        }
    }

    static func hasURLScheme(_ s: String) -> Bool {
        var count = 0
        for b in s.utf8 {
            if b == UInt8(ascii: ":") { return count > 0 }
            let lower = b | 0x20
            let ok =
                (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z"))
                || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
            if !ok { return false }
            count += 1
        }
        return false
    }
}

/// JavaScript's `parseFloat`.
enum JSNumberParsing {
    static func parseFloat(_ s: String) -> Double? {
        let u = Array(s.utf8)
        var i = 0
        while i < u.count, [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C].contains(u[i]) { i += 1 }
        let start = i
        if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { i += 1 }
        let rest = String(decoding: u[i...], as: UTF8.self)
        if rest.hasPrefix("Infinity") {
            return u[start] == UInt8(ascii: "-") ? -.infinity : .infinity
        }
        var end = i
        var digits = 0
        while end < u.count, u[end] >= 48, u[end] <= 57 { end += 1; digits += 1 }
        if end < u.count, u[end] == UInt8(ascii: ".") {
            var e = end + 1
            var frac = 0
            while e < u.count, u[e] >= 48, u[e] <= 57 { e += 1; frac += 1 }
            if digits + frac > 0 { end = e; digits += frac }
        }
        guard digits > 0 else { return nil }
        if end < u.count, u[end] | 0x20 == UInt8(ascii: "e") {
            var e = end + 1
            if e < u.count, u[e] == UInt8(ascii: "+") || u[e] == UInt8(ascii: "-") { e += 1 }
            let expStart = e
            while e < u.count, u[e] >= 48, u[e] <= 57 { e += 1 }
            if e > expStart { end = e }
        }
        var text = String(decoding: u[start..<end], as: UTF8.self)
        if text.hasSuffix(".") { text.removeLast() }
        if text.hasPrefix(".") || text.hasPrefix("-.") || text.hasPrefix("+.") {
            text = text.replacingFirstDot()
        }
        return Double(text)
    }
}

private extension String {
    func replacingFirstDot() -> String {
        guard let dot = firstIndex(of: ".") else { return self }
        return self[..<dot] + "0" + self[dot...]
    }
}
