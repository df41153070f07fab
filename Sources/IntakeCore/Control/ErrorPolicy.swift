/// The `errorPolicy` root property of a control file (an extension, docs/control-files.md): a run
/// stops once its errors go past a number or a rate, keeping what it committed before; or, in
/// `all-or-nothing` mode, commits nothing at all unless every record is applied.
package struct ErrorPolicy: Sendable, Equatable {
    package enum Mode: String, Sendable, CaseIterable {
        /// Each record is committed on its own (the original's behaviour).
        case perRecord = "per-record"
        /// The batch is applied whole or not at all (docs/control-files.md "All or nothing").
        case allOrNothing = "all-or-nothing"
    }

    /// At most this many errors.
    package var maxErrors: Int?
    /// At most this percentage of the records read have errors, judged once `rateJudgedFrom`
    /// records were read (a bad first record is not 100% of a night).
    package var maxErrorRate: Double?
    package var mode = Mode.perRecord

    package static let rateJudgedFrom = 100
    static let names = ["maxErrors", "maxErrorRate", "mode"]

    package init(maxErrors: Int? = nil, maxErrorRate: Double? = nil, mode: Mode = .perRecord) {
        self.maxErrors = maxErrors
        self.maxErrorRate = maxErrorRate
        self.mode = mode
    }

    /// The policy of a control file; nil when it has none or a wrong one (the upload check says so).
    package init?(control: JSONObject) {
        guard let value = control["errorPolicy"], Self.problem(value) == nil, case .object(let policy) = value else { return nil }
        maxErrors = policy["maxErrors"].flatMap(Self.count)
        maxErrorRate = policy["maxErrorRate"].flatMap(Self.rate)
        mode = policy["mode"]?.stringValue.flatMap(Mode.init(rawValue:)) ?? .perRecord
    }

    /// What is wrong with an `errorPolicy` value, in the words of the upload check; nil when nothing.
    package static func problem(_ value: JSONValue) -> String? {
        guard case .object(let policy) = value else { return "errorPolicy must be an object with maxErrors, maxErrorRate and/or mode" }
        for name in policy.keys where !names.contains(name) {
            return "errorPolicy property \(name) is not known: the properties are maxErrors, maxErrorRate and mode"
        }
        if let value = policy["maxErrors"], count(value) == nil { return "errorPolicy maxErrors must be a whole number of errors, 0 or more" }
        if let value = policy["maxErrorRate"], rate(value) == nil {
            return "errorPolicy maxErrorRate must be a percentage like \"5%\", from 0% to 100%"
        }
        if let value = policy["mode"], Mode(rawValue: value.stringValue ?? "") == nil {
            return "errorPolicy mode must be \"per-record\" or \"all-or-nothing\""
        }
        return nil
    }

    private static func count(_ value: JSONValue) -> Int? {
        guard case .number(let n) = value, n >= 0, n == n.rounded(), n <= Double(Int32.max) else { return nil }
        return Int(n)
    }

    /// `"N%"` from 0 to 100, read as a feed guard's percentage is.
    private static func rate(_ value: JSONValue) -> Double? {
        guard case .percent(let percent)? = FeedDeclaration.limit(value) else { return nil }
        return percent
    }

    /// The log line of an all-or-nothing run that applied nothing because `failed` records failed.
    package static func nothingAppliedLine(failed: Int) -> String {
        "NOTHING APPLIED: \(failed) record\(failed == 1 ? "" : "s") failed; the control file asks for all or nothing"
    }

    /// `STOPPED: 41 errors in 300 records, more than the control file's limit of 5%` when `errors`
    /// after `records` go past a limit; nil while they do not. `whose` names who set the limit.
    package func stopLine(errors: Int, records: Int, whose: String = "the control file's") -> String? {
        let counted = "\(errors) error\(errors == 1 ? "" : "s") in \(records) record\(records == 1 ? "" : "s")"
        if let maxErrors, errors > maxErrors {
            return "STOPPED: \(counted), more than \(whose) limit of \(maxErrors) error\(maxErrors == 1 ? "" : "s")"
        }
        if let maxErrorRate, records >= Self.rateJudgedFrom, Double(errors) * 100 > maxErrorRate * Double(records) {
            let rate = maxErrorRate == maxErrorRate.rounded() ? String(Int(maxErrorRate)) : String(maxErrorRate)
            return "STOPPED: \(counted), more than \(whose) limit of \(rate)%"
        }
        return nil
    }
}
