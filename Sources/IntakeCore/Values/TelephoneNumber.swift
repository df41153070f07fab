/// An offline telephone number normaliser: international form and E.164 from the ITU calling code
/// of every country. Grouping follows the national plan for the UK and NANP; other numbers keep
/// their national digits in one group, as in the spec's `+1 823124125`. Numbers it cannot read
/// (letters, fewer than four digits, unknown country) are kept as given.
package enum TelephoneNumber {
    package struct Parsed: Sendable, Equatable {
        package var text: String
        package var e164: String?
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

    /// Countries whose national numbers keep their leading 0 after the calling code (Italy and
    /// the two states inside its numbering plan); everywhere else that 0 is the trunk prefix.
    static let keepsLeadingZero: Set<String> = ["39", "378"]

    package static func parse(_ input: String, defaultCountry: String) -> Parsed {
        let trimmed = input.trimmingSpaces
        // Bytes, not Characters or Substrings: this runs for every telephone value of an import.
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var readable = true
        for b in trimmed.utf8 {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits.append(b)
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "."),
                UInt8(ascii: "+"), UInt8(ascii: "/"):
                break
            default: readable = false
            }
        }
        let first = trimmed.utf8.first
        let internationalPrefix = trimmed.utf8.starts(with: [UInt8(ascii: "0"), UInt8(ascii: "0")])
        let hasPlus = first == UInt8(ascii: "+") || internationalPrefix
        if internationalPrefix { digits.removeFirst(min(2, digits.count)) }
        guard digits.count >= 4, readable else {
            return Parsed(text: trimmed, e164: nil)
        }
        func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        let callingCode: String
        var national: ArraySlice<UInt8>
        if hasPlus {
            guard let code = (1...3).lazy.map({ text(digits.prefix($0)) }).first(where: { knownCallingCodes.contains($0) }) else {
                return Parsed(text: "+" + text(digits[...]), e164: nil)
            }
            callingCode = code
            national = digits.dropFirst(code.utf8.count)
            // "+44 (0)20 …": a trunk prefix written after the country code is not dialled (Italy keeps its 0).
            if national.first == UInt8(ascii: "0") && !keepsLeadingZero.contains(code) { national.removeFirst() }
        } else {
            guard let code = callingCodes[defaultCountry] ?? callingCodes[defaultCountry.uppercased()] else {
                return Parsed(text: trimmed, e164: nil)
            }
            callingCode = code
            national = digits[...]
            if national.first == UInt8(ascii: "0") && !keepsLeadingZero.contains(code) { national.removeFirst() }
            // NANP numbers are often written with their trunk prefix 1: "1 (212) 555-0100".
            if code == "1" && national.count == 11 && national.first == UInt8(ascii: "1") { national.removeFirst() }
        }
        let nationalText = text(national)
        if callingCode == "44" {
            let plausible = national.count == 10 || national.count == 9
            return Parsed(text: "+44 " + groupUK(national), e164: plausible ? "+44" + nationalText : nil)
        }
        if callingCode == "1" {
            if national.count == 10 {
                return Parsed(text: "+1 " + grouped(national, [3, 3, 4], separator: UInt8(ascii: "-")), e164: "+1" + nationalText)
            }
            return Parsed(text: "+1 " + nationalText, e164: nil)
        }
        let plausible = (6...12).contains(national.count)
        return Parsed(text: "+" + callingCode + " " + nationalText, e164: plausible ? "+" + callingCode + nationalText : nil)
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

    /// UK grouping: London-style `20 7946 0123`, geographic `161 496 0123`, mobile `7700 900123`.
    static func groupUK(_ n: ArraySlice<UInt8>) -> String {
        guard n.count == 10 else { return String(decoding: n, as: UTF8.self) }
        let u = Array(n)
        if u[0] == UInt8(ascii: "2") { return grouped(n, [2, 4, 4]) }
        if u[0] == UInt8(ascii: "7") || u[0] == UInt8(ascii: "8") { return grouped(n, [4, 6]) }
        // 0113, 0121, 0161…: three-digit area codes with a 1 in the second or third place.
        if u[0] == UInt8(ascii: "1") && (u[1] == UInt8(ascii: "1") || u[2] == UInt8(ascii: "1")) { return grouped(n, [3, 3, 4]) }
        return grouped(n, [4, 6])
    }
}

extension String {
    var trimmingSpaces: String {
        // Most values have no surrounding spaces: return them as they are.
        guard let f = first, let l = last, f.isWhitespace || l.isWhitespace else { return self }
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
