/// A parser for Java `SimpleDateFormat` patterns, built once per instruction, reading values as the
/// original framework did (`parse(text, ParsePosition(0))`): from the start of the value, with what
/// follows the pattern ignored, spaces and tabs skipped before a field, and fewer digits than the
/// pattern letters accepted where a non-digit follows. Unlike Java's lenient calendar, a field out of
/// range (month 13, 30 February) fails the value instead of rolling over into another date.
/// Parsing is in UTC unless the pattern has a zone field.
package struct DateFormat: Sendable {
    enum Token: Sendable, Equatable {
        case literal([UInt8])
        case field(Character, Int)
    }

    let tokens: [Token]
    /// True when the pattern has no time-of-day fields, so values display as dates.
    package let isDateOnly: Bool

    package struct PatternError: Error, Sendable { package var message: String }

    package init(pattern: String) throws(PatternError) {
        var tokens: [Token] = []
        let chars = Array(pattern)
        var i = 0
        var literal: [UInt8] = []
        func flush() {
            if !literal.isEmpty { tokens.append(.literal(literal)); literal = [] }
        }
        while i < chars.count {
            let c = chars[i]
            if c == "'" {
                if i + 1 < chars.count, chars[i + 1] == "'" { literal.append(UInt8(ascii: "'")); i += 2; continue }
                i += 1
                while i < chars.count {
                    if chars[i] == "'" {
                        if i + 1 < chars.count, chars[i + 1] == "'" { literal.append(UInt8(ascii: "'")); i += 2; continue }
                        break
                    }
                    literal.append(contentsOf: Array(String(chars[i]).utf8))
                    i += 1
                }
                guard i < chars.count else { throw PatternError(message: "Unterminated quote in date format") }
                i += 1
                continue
            }
            if c.isASCII, c.isLetter {
                guard "GyYMLwWDdFEuaHkKhmsSzZX".contains(c) else {
                    throw PatternError(message: "Illegal pattern character '\(c)'")
                }
                flush()
                var n = 1
                while i + n < chars.count, chars[i + n] == c { n += 1 }
                tokens.append(.field(c, n))
                i += n
                continue
            }
            literal.append(contentsOf: Array(String(c).utf8))
            i += 1
        }
        flush()
        self.tokens = tokens
        self.isDateOnly = !tokens.contains { token in
            if case .field(let c, _) = token { return "HkKhmsSa".contains(c) }
            return false
        }
    }

    private static let months = [
        "january", "february", "march", "april", "may", "june", "july", "august",
        "september", "october", "november", "december"
    ]
    private static let days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// The zone names a `z`, `Z` or `X` field reads besides `Z`, `GMT`/`UTC` with an optional offset and
    /// numeric offsets: the North American abbreviations, with the fixed offsets Java gives them
    /// (a standard-time name is standard time whatever the date). Any other name fails the value.
    private static let namedZones: [String: Int] = [
        "EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
        "MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600
    ]

    private static func isNumeric(_ token: Token) -> Bool {
        guard case .field(let c, let n) = token else { return false }
        if c == "M" || c == "L" { return n <= 2 }
        return "yYwWDdFuHkKhmsS".contains(c)
    }

    /// Returns seconds since 1970 and milliseconds, or nil when the text does not match.
    package func parse(_ text: String) -> (seconds: Int64, milliseconds: Int)? {
        let u = Array(text.utf8)
        var i = 0
        var year: Int?, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0
        var pm: Bool?
        var hour12 = false
        var offsetSeconds = 0

        func digits(max: Int) -> Int? {
            var v = 0
            var n = 0
            while i < u.count, n < max, u[i] >= 48, u[i] <= 57 {
                v = v * 10 + Int(u[i] - 48)
                i += 1
                n += 1
            }
            return n == 0 ? nil : v
        }
        func word(from list: [String], minimum: Int) -> Int? {
            for (index, name) in list.enumerated() {
                for length in [name.count, 3] where length >= minimum {
                    let candidate = Array(name.utf8.prefix(length))
                    guard i + candidate.count <= u.count else { continue }
                    var ok = true
                    for k in 0..<candidate.count where (u[i + k] | 0x20) != candidate[k] { ok = false; break }
                    if ok { i += candidate.count; return index }
                }
            }
            return nil
        }
        func zone() -> Int? {
            guard i < u.count else { return nil }
            // Zone names are matched without regard to case, as Java matches them.
            let name = u.count - i >= 3 ? String(decoding: u[i..<(i + 3)].map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }, as: UTF8.self) : ""
            if let offset = Self.namedZones[name] {
                i += 3
                return offset
            }
            if name == "GMT" || name == "UTC" {
                i += 3
                if i >= u.count || (u[i] != UInt8(ascii: "+") && u[i] != UInt8(ascii: "-")) { return 0 }
            } else if u[i] == UInt8(ascii: "Z") {
                i += 1
                return 0
            }
            guard u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") else { return nil }
            let sign = u[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let hh = digits(max: 2) else { return nil }
            var mm = 0
            if i < u.count, u[i] == UInt8(ascii: ":") { i += 1 }
            if i < u.count, u[i] >= 48, u[i] <= 57 { guard let m = digits(max: 2) else { return nil }; mm = m }
            guard hh <= 23, mm <= 59 else { return nil }
            return sign * (hh * 3600 + mm * 60)
        }

        for (index, token) in tokens.enumerated() {
            if case .field = token {
                // SimpleDateFormat skips spaces and tabs before every field.
                while i < u.count, u[i] == UInt8(ascii: " ") || u[i] == UInt8(ascii: "\t") { i += 1 }
            }
            switch token {
            case .literal(let bytes):
                guard i + bytes.count <= u.count, Array(u[i..<(i + bytes.count)]) == bytes else { return nil }
                i += bytes.count
            case .field(let c, let n):
                // Abutting numeric fields take exactly their pattern width, as in SimpleDateFormat.
                let abutting = index + 1 < tokens.count && Self.isNumeric(tokens[index + 1])
                let width = abutting ? n : 10
                switch c {
                case "y", "Y":
                    let start = i
                    guard let v = digits(max: abutting ? n : 9) else { return nil }
                    // Java reads exactly two digits for a one- or two-letter year in a century window;
                    // anything else is the year as written.
                    year = (n <= 2 && i - start == 2) ? (v + 2000 > 2026 + 20 ? v + 1900 : v + 2000) : v
                case "M", "L":
                    if n >= 3 {
                        guard let m = word(from: Self.months, minimum: 3) else { return nil }
                        month = m + 1
                    } else {
                        guard let v = digits(max: width) else { return nil }
                        month = v
                    }
                case "d": guard let v = digits(max: width) else { return nil }; day = v
                case "H": guard let v = digits(max: width) else { return nil }; hour = v
                case "k": guard let v = digits(max: width) else { return nil }; hour = v == 24 ? 0 : v
                case "K": guard let v = digits(max: width) else { return nil }; hour = v; hour12 = true
                case "h": guard let v = digits(max: width) else { return nil }; hour = v == 12 ? 0 : v; hour12 = true
                case "m": guard let v = digits(max: width) else { return nil }; minute = v
                case "s": guard let v = digits(max: width) else { return nil }; second = v
                case "S":
                    guard let v = digits(max: width) else { return nil }
                    millis = v
                case "a":
                    guard i + 2 <= u.count else { return nil }
                    let a = (u[i] | 0x20, u[i + 1] | 0x20)
                    if a == (UInt8(ascii: "a"), UInt8(ascii: "m")) {
                        pm = false
                    } else if a == (UInt8(ascii: "p"), UInt8(ascii: "m")) {
                        pm = true
                    } else {
                        return nil
                    }
                    i += 2
                case "E":
                    guard word(from: Self.days, minimum: 3) != nil else { return nil }
                case "u", "F", "w", "W", "D":
                    guard digits(max: width) != nil else { return nil }
                case "z", "Z", "X":
                    guard let offset = zone() else { return nil }
                    offsetSeconds = offset
                case "G":
                    guard i + 2 <= u.count else { return nil }
                    i += 2
                default:
                    return nil
                }
            }
        }
        // What follows the pattern is ignored, as SimpleDateFormat.parse(text, ParsePosition(0)) does.
        guard let year else { return nil }
        if let pm { if hour12 || hour < 12 { hour = (hour % 12) + (pm ? 12 : 0) } }
        guard (1...12).contains(month), day >= 1, day <= CivilTime.daysInMonth(year: year, month: month),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second), (0...999).contains(millis)
        else { return nil }
        let days = CivilTime.days(year: year, month: month, day: day)
        let seconds = days * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        return (seconds, millis)
    }
}
