/// A small, offline telephone number normaliser: international form and E.164 for numbers whose
/// country calling code is known. Numbers it cannot read are kept as given.
public enum TelephoneNumber {
    public struct Parsed: Sendable, Equatable {
        public var text: String
        public var e164: String?
    }

    /// Country code → calling code, for the countries whose national prefix `0` is dropped.
    static let callingCodes: [String: String] = [
        "GB": "44", "US": "1", "CA": "1", "IE": "353", "FR": "33", "DE": "49", "NL": "31", "BE": "32", "ES": "34",
        "IT": "39", "PT": "351", "CH": "41", "AT": "43", "SE": "46", "NO": "47", "DK": "45", "FI": "358",
        "PL": "48", "AU": "61", "NZ": "64", "JP": "81", "CN": "86", "IN": "91", "ZA": "27",
    ]

    public static func parse(_ input: String, defaultCountry: String) -> Parsed {
        let trimmed = input.trimmingSpaces
        // Bytes, not Characters: this runs for every telephone value of an import.
        var digitBytes: [UInt8] = []
        var readable = true
        for b in trimmed.utf8 {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digitBytes.append(b)
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "."),
                 UInt8(ascii: "+"), UInt8(ascii: "/"): break
            default: readable = false
            }
        }
        let hasPlus = trimmed.hasPrefix("+") || trimmed.hasPrefix("00")
        if trimmed.hasPrefix("00") { digitBytes.removeFirst(min(2, digitBytes.count)) }
        let digits = String(decoding: digitBytes, as: UTF8.self)
        guard digitBytes.count >= 4, readable else {
            return Parsed(text: trimmed, e164: nil)
        }
        var callingCode: String
        var national: String
        if hasPlus {
            guard let code = (1...3).lazy.map({ String(digits.prefix($0)) }).first(where: { callingCodes.values.contains($0) }) else {
                return Parsed(text: "+" + digits, e164: nil)
            }
            callingCode = code
            national = String(digits.dropFirst(code.count))
            // "+44 (0)20 …": a trunk prefix written after the country code is not dialled (Italy keeps its 0).
            if national.hasPrefix("0") && code != "39" { national.removeFirst() }
        } else {
            guard let code = callingCodes[defaultCountry.uppercased()] else { return Parsed(text: trimmed, e164: nil) }
            callingCode = code
            national = digits.hasPrefix("0") ? String(digits.dropFirst()) : digits
        }
        if callingCode == "44" {
            let plausible = national.count == 10 || national.count == 9
            let grouped = groupUK(national)
            return Parsed(text: "+44 " + grouped, e164: plausible ? "+44" + national : nil)
        }
        if callingCode == "1" {
            if national.count == 10 {
                let a = national.prefix(3), b = national.dropFirst(3).prefix(3), c = national.dropFirst(6)
                return Parsed(text: "+1 \(a)-\(b)-\(c)", e164: "+1" + national)
            }
            return Parsed(text: "+1 " + national, e164: nil)
        }
        let plausible = (6...12).contains(national.count)
        return Parsed(text: "+\(callingCode) \(national)", e164: plausible ? "+" + callingCode + national : nil)
    }

    /// UK grouping: London-style `20 7946 0123`, geographic `161 496 0123`, mobile `7700 900123`.
    static func groupUK(_ n: String) -> String {
        func split(_ sizes: [Int]) -> String {
            var parts: [String] = []
            var rest = Substring(n)
            for size in sizes where !rest.isEmpty {
                parts.append(String(rest.prefix(size)))
                rest = rest.dropFirst(size)
            }
            if !rest.isEmpty { parts.append(String(rest)) }
            return parts.joined(separator: " ")
        }
        guard n.count == 10 else { return n }
        if n.hasPrefix("2") { return split([2, 4, 4]) }
        if n.hasPrefix("7") || n.hasPrefix("8") { return split([4, 6]) }
        // 0113, 0121, 0161…: three-digit area codes with a 1 in the second or third place.
        let u = Array(n.utf8)
        if u[0] == UInt8(ascii: "1") && (u[1] == UInt8(ascii: "1") || u[2] == UInt8(ascii: "1")) { return split([3, 3, 4]) }
        return split([4, 6])
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
