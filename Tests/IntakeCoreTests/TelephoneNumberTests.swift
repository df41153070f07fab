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
            ("0033 1 23 45 67 89", "GB", "+33 123456789", "+33123456789"),
            ("call me", "GB", "call me", nil),
            ("1 (212) 555-0100", "US", "+1 212-555-0100", "+12125550100"),
            ("06 1234 5678", "IT", "+39 0612345678", "+390612345678"),
            ("+39 06 1234 5678", "GB", "+39 0612345678", "+390612345678"),
            ("030 123456", "DE", "+49 30123456", "+4930123456"),
            ("+81 3-1234-5678", "GB", "+81 312345678", "+81312345678"),
            ("+353 1 234 5678", "GB", "+353 12345678", "+35312345678"),
            ("(0)21 123 4567", "ZA", "+27 211234567", "+27211234567"),
            ("876 555 0100", "JM", "+1 876-555-0100", "+18765550100"),
            ("09 123 4567", "NZ", "+64 91234567", "+6491234567"),
            ("+998 71 123 45 67", "GB", "+998 711234567", "+998711234567"),
            ("0123 456", "ZZ", "0123 456", nil)
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
