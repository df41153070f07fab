/// An offline telephone number normaliser, formatting numbers as the original platform did: the
/// number's country from its international prefix (`+` or `00`) or else the instruction's country,
/// the trunk prefix dropped, the national number grouped by its country's rules (the UK's by area,
/// France's in pairs, the NANP's `XXX-XXX-XXXX`; elsewhere the grouping as written), an extension
/// written after the number kept, and E.164 from the ITU calling code. Numbers it cannot read
/// (letters, fewer than four digits, unknown country) are kept as given.
package enum TelephoneNumber {
    package struct Parsed: Sendable, Equatable {
        package var text: String
        package var e164: String?
        package var `extension`: String?

        package init(text: String, e164: String?, extension: String? = nil) {
            self.text = text
            self.e164 = e164
            self.extension = `extension`
        }
    }
    /// ISO 3166-1 alpha-2 → ITU-T E.164 country calling code, for every country with one (ITU
    /// assignments; territories sharing a plan, such as the NANP islands or Jersey, use its code).
    /// Calling codes are prefix-free, so the digits after a `+` match at most one code.
    static let callingCodes: [String: String] = {
        let table = """
            1 US CA AG AI AS BB BM BS DM DO GD GU JM KN KY LC MP MS PR SX TC TT VC VG VI
            7 RU KZ
            20 EG
            27 ZA
            30 GR
            31 NL
            32 BE
            33 FR
            34 ES
            36 HU
            39 IT VA
            40 RO
            41 CH
            43 AT
            44 GB GG IM JE
            45 DK
            46 SE
            47 NO SJ
            48 PL
            49 DE
            51 PE
            52 MX
            53 CU
            54 AR
            55 BR
            56 CL
            57 CO
            58 VE
            60 MY
            61 AU CX CC
            62 ID
            63 PH
            64 NZ
            65 SG
            66 TH
            81 JP
            82 KR
            84 VN
            86 CN
            90 TR
            91 IN
            92 PK
            93 AF
            94 LK
            95 MM
            98 IR
            211 SS
            212 MA EH
            213 DZ
            216 TN
            218 LY
            220 GM
            221 SN
            222 MR
            223 ML
            224 GN
            225 CI
            226 BF
            227 NE
            228 TG
            229 BJ
            230 MU
            231 LR
            232 SL
            233 GH
            234 NG
            235 TD
            236 CF
            237 CM
            238 CV
            239 ST
            240 GQ
            241 GA
            242 CG
            243 CD
            244 AO
            245 GW
            246 IO
            248 SC
            249 SD
            250 RW
            251 ET
            252 SO
            253 DJ
            254 KE
            255 TZ
            256 UG
            257 BI
            258 MZ
            260 ZM
            261 MG
            262 RE YT
            263 ZW
            264 NA
            265 MW
            266 LS
            267 BW
            268 SZ
            269 KM
            290 SH
            291 ER
            297 AW
            298 FO
            299 GL
            350 GI
            351 PT
            352 LU
            353 IE
            354 IS
            355 AL
            356 MT
            357 CY
            358 FI AX
            359 BG
            370 LT
            371 LV
            372 EE
            373 MD
            374 AM
            375 BY
            376 AD
            377 MC
            378 SM
            380 UA
            381 RS
            382 ME
            383 XK
            385 HR
            386 SI
            387 BA
            389 MK
            420 CZ
            421 SK
            423 LI
            500 FK
            501 BZ
            502 GT
            503 SV
            504 HN
            505 NI
            506 CR
            507 PA
            508 PM
            509 HT
            590 GP BL MF
            591 BO
            592 GY
            593 EC
            594 GF
            595 PY
            596 MQ
            597 SR
            598 UY
            599 CW BQ
            670 TL
            672 NF
            673 BN
            674 NR
            675 PG
            676 TO
            677 SB
            678 VU
            679 FJ
            680 PW
            681 WF
            682 CK
            683 NU
            685 WS
            686 KI
            687 NC
            688 TV
            689 PF
            690 TK
            691 FM
            692 MH
            850 KP
            852 HK
            853 MO
            855 KH
            856 LA
            880 BD
            886 TW
            960 MV
            961 LB
            962 JO
            963 SY
            964 IQ
            965 KW
            966 SA
            967 YE
            968 OM
            970 PS
            971 AE
            972 IL
            973 BH
            974 QA
            975 BT
            976 MN
            977 NP
            992 TJ
            993 TM
            994 AZ
            995 GE
            996 KG
            998 UZ
            """
        var codes: [String: String] = [:]
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            for country in fields.dropFirst() { codes[String(country)] = String(fields[0]) }
        }
        return codes
    }()

    static let knownCallingCodes = Set(callingCodes.values)

    /// The trunk prefix dialled before a national number, by calling code, where it is not 0 (the
    /// original platform's country data): 8 in the former Soviet plans, 1 in the NANP, none where
    /// numbers have no trunk prefix. Italy and San Marino write their leading 0 after the calling
    /// code, so it is not a trunk prefix there (the original dropped it, dialling another number).
    static let trunkPrefixes: [String: UInt8?] = {
        var prefixes: [String: UInt8?] = ["1": UInt8(ascii: "1"), "39": nil, "378": nil]
        for code in ["7", "375", "380", "992", "993", "995", "998"] { prefixes[code] = UInt8(ascii: "8") }
        for code in ["226", "229", "244", "257", "267", "299", "350", "501", "673", "850", "852", "853", "973", "975"] {
            prefixes[code] = .some(nil)
        }
        return prefixes
    }()

    static func trunkPrefix(_ callingCode: String) -> UInt8? {
        if let prefix = trunkPrefixes[callingCode] { return prefix }
        return UInt8(ascii: "0")
    }

    package static func parse(_ input: String, defaultCountry: String) -> Parsed {
        let trimmed = input.trimmingSpaces
        let (number, extensionDigits) = splitExtension(trimmed)
        // Bytes, not Characters or Substrings: this runs for every telephone value of an import.
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var readable = true
        for b in number.utf8 {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits.append(b)
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "."),
                UInt8(ascii: "+"), UInt8(ascii: "/"):
                break
            default: readable = false
            }
        }
        let first = number.utf8.first
        let internationalPrefix = number.utf8.starts(with: [UInt8(ascii: "0"), UInt8(ascii: "0")])
        let hasPlus = first == UInt8(ascii: "+") || internationalPrefix
        if internationalPrefix { digits.removeFirst(min(2, digits.count)) }
        guard digits.count >= 4, readable else {
            return Parsed(text: trimmed, e164: nil)
        }
        func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        let suffix = extensionDigits.map { " ext " + $0 } ?? ""
        let callingCode: String
        var national: ArraySlice<UInt8>
        if hasPlus {
            guard let code = (1...3).lazy.map({ text(digits.prefix($0)) }).first(where: { knownCallingCodes.contains($0) }) else {
                return Parsed(text: "+" + text(digits[...]) + suffix, e164: nil, extension: extensionDigits)
            }
            callingCode = code
            national = digits.dropFirst(code.utf8.count)
        } else {
            guard let code = callingCodes[defaultCountry] ?? callingCodes[defaultCountry.uppercased()] else {
                return Parsed(text: trimmed, e164: nil)
            }
            callingCode = code
            national = digits[...]
        }
        // "+44 (0)20 …", "020 …", "8 495 …" in Russia: the trunk prefix is not part of the number.
        let trunk = trunkPrefix(callingCode)
        let dropsTrunk = trunk != nil && national.first == trunk
        if dropsTrunk { national.removeFirst() }
        let nationalText = text(national)
        let groups: String
        let plausible: Bool
        switch callingCode {
        case "44":
            groups = groupUK(national)
            plausible = national.count == 10 || national.count == 9
        case "33":
            groups = grouped(national, [1] + Array(repeating: 2, count: max(0, national.count / 2)))
            plausible = national.count == 9
        case "1":
            groups = national.count >= 10 ? grouped(national, [3, 3], separator: UInt8(ascii: "-")) : nationalText
            plausible = national.count == 10
        default:
            groups = asWritten(number, international: hasPlus, callingCode: callingCode, dropsTrunk: dropsTrunk)
            plausible = (6...12).contains(national.count)
        }
        return Parsed(
            text: "+" + callingCode + " " + groups + suffix,
            e164: plausible ? "+" + callingCode + nationalText : nil, extension: extensionDigits)
    }

    /// An extension written after the number (`ext`, `ext.`, `extn`, `extension`, `x`, any case,
    /// then its digits at the end) and the number before it.
    static func splitExtension(_ value: String) -> (number: String, extension: String?) {
        let u = Array(value.utf8)
        var digitsStart = u.count
        while digitsStart > 0, u[digitsStart - 1] >= 48, u[digitsStart - 1] <= 57 { digitsStart -= 1 }
        guard digitsStart < u.count, digitsStart > 0 else { return (value, nil) }
        // Between the marker and the digits: letters of the marker, dots, colons, '#' and spaces.
        var k = digitsStart
        while k > 0, [UInt8(ascii: " "), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "#")].contains(u[k - 1]) { k -= 1 }
        var markerEnd = k
        while markerEnd > 0, (u[markerEnd - 1] | 0x20) >= UInt8(ascii: "a"), (u[markerEnd - 1] | 0x20) <= UInt8(ascii: "z") { markerEnd -= 1 }
        let marker = String(decoding: u[markerEnd..<k].map { $0 | 0x20 }, as: UTF8.self)
        guard marker == "x" || marker.hasPrefix("ext") && "extension".hasPrefix(marker) || marker == "extn" else { return (value, nil) }
        // The marker stands apart from the number: after a space, or straight after its last digit.
        guard markerEnd > 0, u[markerEnd - 1] == UInt8(ascii: " ") || (u[markerEnd - 1] >= 48 && u[markerEnd - 1] <= 57) else {
            return (value, nil)
        }
        let number = String(decoding: u[..<markerEnd], as: UTF8.self).trimmingSpaces
        return (number, String(decoding: u[digitsStart...], as: UTF8.self))
    }

    /// A number of a country without grouping rules, grouped as it was written (as the original kept
    /// it): without the international prefix and calling code, without the trunk prefix, and tidied
    /// of the separators left around what was taken out.
    static func asWritten(_ number: String, international: Bool, callingCode: String, dropsTrunk: Bool) -> String {
        var u = Array(number.utf8)
        var toDrop = (international ? callingCode.utf8.count : 0) + (dropsTrunk ? 1 : 0)
        if international {
            if u.first == UInt8(ascii: "+") {
                u.removeFirst()
            } else {
                toDrop += 2  // the 00 of "0049 …"
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        for b in u {
            if toDrop > 0, b >= 48, b <= 57 {
                toDrop -= 1
                continue
            }
            out.append(b)
        }
        // "(0)" around a dropped trunk prefix leaves "()", which goes; spaces are single, and
        // separators before the first digit go.
        var tidy: [UInt8] = []
        tidy.reserveCapacity(out.count)
        var k = 0
        while k < out.count {
            let isEmptyBrackets = out[k] == UInt8(ascii: "(") && k + 1 < out.count && out[k + 1] == UInt8(ascii: ")")
            let isSpace = out[k] == UInt8(ascii: " ") || isEmptyBrackets
            let isSeparator = [UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/")].contains(out[k])
            if isSpace {
                if !tidy.isEmpty, tidy.last != UInt8(ascii: " ") { tidy.append(UInt8(ascii: " ")) }
            } else if !(isSeparator && tidy.isEmpty) {
                tidy.append(out[k])
            }
            k += isEmptyBrackets ? 2 : 1
        }
        while tidy.last == UInt8(ascii: " ") { tidy.removeLast() }
        return String(decoding: tidy, as: UTF8.self)
    }

    /// The digits in groups of these sizes (the last group takes what is left).
    static func grouped(_ digits: ArraySlice<UInt8>, _ sizes: [Int], separator: UInt8 = UInt8(ascii: " ")) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(digits.count + sizes.count)
        var rest = digits
        for size in sizes where !rest.isEmpty {
            if !out.isEmpty { out.append(separator) }
            out.append(contentsOf: rest.prefix(size))
            rest = rest.dropFirst(size)
        }
        if !rest.isEmpty {
            if !out.isEmpty { out.append(separator) }
            out.append(contentsOf: rest)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The UK's groups, as the original platform grouped them: London and other 02 numbers
    /// `20 7946 0123`; the large cities' three-digit codes `161 496 0123`; 08 and 09 services
    /// `800 123467`; everything else (other area codes, mobiles) `1603 128475`, `7700 900123`.
    static let ukCityCodes: Set<String> = ["121", "117", "131", "141", "113", "116", "151", "161", "191", "115", "114"]

    static func groupUK(_ n: ArraySlice<UInt8>) -> String {
        guard let first = n.first else { return "" }
        if n.count >= 7, first == UInt8(ascii: "2") { return grouped(n, [2, 4]) }
        if n.count >= 7, ukCityCodes.contains(String(decoding: n.prefix(3), as: UTF8.self)) { return grouped(n, [3, 3]) }
        if n.count >= 4, first == UInt8(ascii: "8") || first == UInt8(ascii: "9") { return grouped(n, [3]) }
        if n.count >= 4 { return grouped(n, [4]) }
        return String(decoding: n, as: UTF8.self)
    }
}

extension String {
    var trimmingSpaces: String {
        // Most values have no surrounding spaces: return them as they are, told by their first and
        // last bytes when those are printable ASCII (no Characters to form).
        if let f = utf8.first, let l = utf8.last, (0x21..<0x80).contains(f), (0x21..<0x80).contains(l) { return self }
        guard let f = first, let l = last, f.isWhitespace || l.isWhitespace else { return self }
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
