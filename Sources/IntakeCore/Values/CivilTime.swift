/// Gregorian calendar arithmetic in UTC without Foundation (Howard Hinnant's algorithms).
package enum CivilTime {
    package static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    package static func date(days z0: Int64) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }

    package static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// ISO 8601 in UTC: `2026-11-28T10:00:00Z`, with milliseconds only when non-zero.
    package static func iso8601(seconds: Int64, milliseconds: Int = 0) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let rest = Int(seconds - days * 86400)
        let (y, m, d) = date(days: days)
        var s = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3600, 2)):\(pad(rest / 60 % 60, 2)):\(pad(rest % 60, 2))"
        if milliseconds != 0 { s += "." + pad(milliseconds, 3) }
        return s + "Z"
    }

    package static func isoDate(seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let (y, m, d) = date(days: days)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Parses what `iso8601` and `isoDate` write.
    package static func parseISO(_ text: String) -> (seconds: Int64, milliseconds: Int, dateOnly: Bool)? {
        let u = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= u.count else { return nil }
            var v = 0
            for k in from..<(from + count) {
                guard (48...57).contains(u[k]) else { return nil }
                v = v * 10 + Int(u[k] - 48)
            }
            return v
        }
        guard let y = num(0, 4), let m = num(5, 2), let d = num(8, 2) else { return nil }
        let days = Self.days(year: y, month: m, day: d)
        if u.count == 10 { return (days * 86400, 0, true) }
        guard let hh = num(11, 2), let mm = num(14, 2), let ss = num(17, 2) else { return nil }
        let ms = u.count > 20 && u[19] == UInt8(ascii: ".") ? (num(20, 3) ?? 0) : 0
        return (days * 86400 + Int64(hh * 3600 + mm * 60 + ss), ms, false)
    }
}

extension CivilTime {
    /// The first second (UTC, since 1970) of a day written `YYYY-MM-DD`; nil for anything else or a
    /// day that does not exist.
    package static func secondsOfDay(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        return days(year: year, month: month, day: day) * 86_400
    }
}
