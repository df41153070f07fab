import Testing

@testable import IntakeCore

@Suite struct TelephoneNumberTests {
    @Test(
        arguments: [
            ("+442012345678", "GB", "+44 20 1234 5678", "+442012345678"),
            ("823 124 125", "US", "+1 823124125", nil),
            ("0161 496 0006", "GB", "+44 161 496 0006", "+441614960006"),
            ("020 7946 0736", "GB", "+44 20 7946 0736", "+442079460736"),
            ("+44 (0)20 7946 0736", "GB", "+44 20 7946 0736", "+442079460736"),
            ("07700 900123", "GB", "+44 7700 900123", "+447700900123"),
            ("(212) 555-0100", "US", "+1 212-555-0100", "+12125550100"),
            ("0033 1 23 45 67 89", "GB", "+33 1 23 45 67 89", "+33123456789"),
            ("call me", "GB", "call me", nil),
            ("1 (212) 555-0100", "US", "+1 212-555-0100", "+12125550100"),
            ("06 1234 5678", "IT", "+39 06 1234 5678", "+390612345678"),
            ("+39 06 1234 5678", "GB", "+39 06 1234 5678", "+390612345678"),
            ("030 123456", "DE", "+49 30 123456", "+4930123456"),
            ("+81 3-1234-5678", "GB", "+81 3-1234-5678", "+81312345678"),
            ("+353 1 234 5678", "GB", "+353 1 234 5678", "+35312345678"),
            ("(0)21 123 4567", "ZA", "+27 21 123 4567", "+27211234567"),
            ("876 555 0100", "JM", "+1 876-555-0100", "+18765550100"),
            ("09 123 4567", "NZ", "+64 9 123 4567", "+6491234567"),
            ("+998 71 123 45 67", "GB", "+998 71 123 45 67", "+998711234567"),
            ("0123 456", "ZZ", "0123 456", nil),
            // The original platform's groups and trunk prefixes (its formatting tests give these).
            ("+33 5 8765 6432", "US", "+33 5 87 65 64 32", "+33587656432"),
            ("061(2 3)4 5678", "FR", "+33 6 12 34 56 78", "+33612345678"),
            ("(207) 047 1110", "GB", "+44 20 7047 1110", "+442070471110"),
            ("0 800 12 3 467", "GB", "+44 800 123467", "+44800123467"),
            ("016031284 75", "GB", "+44 1603 128475", "+441603128475"),
            ("01179257900", "GB", "+44 117 925 7900", "+441179257900"),
            ("(0) 1 234 1234", "IE", "+353 1 234 1234", "+35312341234"),
            ("765 4321234", "US", "+1 765-432-1234", "+17654321234"),
            ("(01234) 5678", "WS", "+685 (1234) 5678", "+68512345678"),
            ("8234-5678", "GE", "+995 234-5678", "+9952345678"),
            ("0049 6142 775496", "GB", "+49 6142 775496", "+496142775496"),
            ("8 495 123 45 67", "RU", "+7 495 123 45 67", "+74951234567"),
            ("+244.222.323.540", "GB", "+244 222.323.540", "+244222323540")
        ] as [(String, String, String, String?)])
    func normalises(_ input: String, _ country: String, _ text: String, _ e164: String?) {
        let parsed = TelephoneNumber.parse(input, defaultCountry: country)
        #expect(parsed.text == text)
        #expect(parsed.e164 == e164)
    }
}

extension TelephoneNumberTests {
    @Test func everyCallingCodeIsPrefixFree() {
        let codes = TelephoneNumber.knownCallingCodes
        for code in codes {
            for length in 1..<code.count {
                #expect(!codes.contains(String(code.prefix(length))), "\(code) starts with another code")
            }
        }
        #expect(TelephoneNumber.callingCodes.count > 230)
        // XK (Kosovo) is a user-assigned code, widely used for its calling code 383 but not in ISO 3166-1.
        #expect(TelephoneNumber.callingCodes.keys.filter { !CountryCodes.all.contains($0) } == ["XK"])
    }
}

extension TelephoneNumberTests {
    @Test(
        arguments: [
            ("020 7047 1111 ext 8767", "GB", "+44 20 7047 1111 ext 8767", "8767"),
            ("+44 20 7047 1111 ext 8767", "US", "+44 20 7047 1111 ext 8767", "8767"),
            ("1-223-234-2445 extension 742", "US", "+1 223-234-2445 ext 742", "742"),
            ("+1-416-234-2445 extn. 297", "GB", "+1 416-234-2445 ext 297", "297"),
            ("1 987 234 2445 ext. 3982", "US", "+1 987-234-2445 ext 3982", "3982"),
            ("020 7047 1118 eXt 2355", "GB", "+44 20 7047 1118 ext 2355", "2355"),
            ("020 7047 1111 x8767", "GB", "+44 20 7047 1111 ext 8767", "8767"),
            ("020 7047 1111 x 12", "GB", "+44 20 7047 1111 ext 12", "12"),
            ("+44 (01707) 632300 ext 393", "GB", "+44 1707 632300 ext 393", "393")
        ] as [(String, String, String, String)])
    func extensionsAreKept(_ input: String, _ country: String, _ text: String, _ phoneExtension: String) {
        let parsed = TelephoneNumber.parse(input, defaultCountry: country)
        #expect(parsed.text == text)
        #expect(parsed.extension == phoneExtension)
        #expect(parsed.e164?.contains(phoneExtension) == false)
    }

    @Test func textThatOnlyLooksLikeAnExtensionIsNotOne() {
        #expect(TelephoneNumber.parse("x 123", defaultCountry: "GB").extension == nil)
        #expect(TelephoneNumber.parse("next 020 7047 1111", defaultCountry: "GB").text == "next 020 7047 1111")
        #expect(TelephoneNumber.parse("020 7047 1111 box 12", defaultCountry: "GB").text == "020 7047 1111 box 12")
    }
}
