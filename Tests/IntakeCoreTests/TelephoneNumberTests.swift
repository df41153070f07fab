import Testing
@testable import IntakeCore

@Suite struct TelephoneNumberTests {
    @Test(arguments: [
        ("+442012345678", "GB", "+44 20 1234 5678", "+442012345678"),
        ("823 124 125", "US", "+1 823124125", nil),
        ("0161 496 0006", "GB", "+44 161 496 0006", "+441614960006"),
        ("020 7946 0736", "GB", "+44 20 7946 0736", "+442079460736"),
        ("+44 (0)20 7946 0736", "GB", "+44 20 7946 0736", "+442079460736"),
        ("07700 900123", "GB", "+44 7700 900123", "+447700900123"),
        ("(212) 555-0100", "US", "+1 212-555-0100", "+12125550100"),
        ("0033 1 23 45 67 89", "GB", "+33 123456789", "+33123456789"),
        ("call me", "GB", "call me", nil),
    ] as [(String, String, String, String?)])
    func normalises(_ input: String, _ country: String, _ text: String, _ e164: String?) {
        let parsed = TelephoneNumber.parse(input, defaultCountry: country)
        #expect(parsed.text == text)
        #expect(parsed.e164 == e164)
    }
}
