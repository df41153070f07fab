/// The `feed` root property of a control file (docs/feeds.md): the batches whose control file
/// declares one feed are the nightly runs of that feed, and records are identified across runs by
/// (file name, key value).
package struct FeedDeclaration: Sendable, Equatable {
    package var name: String
    /// The top-level record field that identifies a record across runs.
    package var key: String
    /// Every run holds the complete set of records of each file it contains.
    package var snapshot: Bool
    /// Instructions run for each key that left (snapshot feeds only).
    package var leavers: [JSONValue]
    package var maxLeavers: FeedLimit?
    package var maxRecordCountChange: FeedLimit?
    /// Webhook names told about this feed's runs.
    package var notify: [String]

    /// A guard's limit: a number of records (keys) or a percentage.
    package enum FeedLimit: Sendable, Equatable, CustomStringConvertible {
        case records(Int)
        case percent(Double)

        /// Whether `count` out of `total` goes beyond the limit.
        package func isExceeded(by count: Int, of total: Int) -> Bool {
            switch self {
            case .records(let limit): return count > limit
            case .percent(let limit):
                guard total > 0 else { return count > 0 && limit < 100 }
                return Double(count) * 100 > limit * Double(total)
            }
        }

        /// As the control file wrote it: `20%` or `500`.
        package var description: String {
            switch self {
            case .records(let n): return String(n)
            case .percent(let p): return (p == p.rounded() ? String(Int(p)) : String(p)) + "%"
            }
        }
    }

    /// The default `maxLeavers` of a snapshot feed: 20% once its files hold at least 100 active keys.
    package static let defaultMaxLeavers = FeedLimit.percent(20)
    package static let defaultMaxLeaversFrom = 100

    /// The `maxLeavers` limit that applies when `active` keys of the batch's files are active.
    package func leaverLimit(active: Int) -> FeedLimit? {
        if let maxLeavers { return maxLeavers }
        return snapshot && active >= Self.defaultMaxLeaversFrom ? Self.defaultMaxLeavers : nil
    }

    package static let namePattern = "Feed name must be 1 to 64 characters of a-z, 0-9, '.', '_' and '-'"

    /// The declaration of a control file, nil when it declares no feed or declares one wrongly (the
    /// upload check reports that).
    package init?(control: JSONObject) {
        guard case .object(let feed)? = control["feed"], Self.problem(.object(feed), instructionProblem: { _ in nil }) == nil else {
            return nil
        }
        name = feed["name"]?.stringValue ?? ""
        key = feed["key"]?.stringValue ?? ""
        snapshot = feed["snapshot"] == .bool(true)
        leavers = feed["leavers"]?.arrayValue ?? []
        let guardObject = feed["guard"]?.objectValue ?? JSONObject()
        maxLeavers = guardObject["maxLeavers"].flatMap(Self.limit)
        maxRecordCountChange = guardObject["maxRecordCountChange"].flatMap(Self.limit)
        notify = (feed["notify"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    static let guardNames = ["maxLeavers", "maxRecordCountChange"]

    /// The sixth upload check: the first problem of a `feed` property, in the documented order.
    /// `instructionProblem` checks the `leavers` instructions as the instruction check does.
    package static func problem(_ value: JSONValue, instructionProblem: ([JSONValue]) -> String?) -> String? {
        guard case .object(let feed) = value else { return "The feed property must be an object" }
        guard case .string(let name)? = feed["name"], isValidName(name) else { return namePattern }
        guard case .string(let key)? = feed["key"], !key.isEmpty else {
            return "Feed key must name the record field that identifies a record"
        }
        var snapshot = false
        if let value = feed["snapshot"] {
            guard case .bool(let flag) = value else { return "Feed snapshot must be true or false" }
            snapshot = flag
        }
        if let leavers = feed["leavers"] {
            guard snapshot else { return "Feed leavers need \"snapshot\": true" }
            guard case .array(let list) = leavers else { return "Feed leavers must be a list of instructions" }
            if let problem = instructionProblem(list) { return problem }
        }
        if let guards = feed["guard"] {
            // Silent in the contract: a guard that is not an object, or a name that is not a guard, is
            // refused too, so that a misspelt limit cannot leave a feed unguarded.
            guard case .object(let object) = guards else {
                return "Feed guard must be an object with maxLeavers and/or maxRecordCountChange"
            }
            for (guardName, limit) in object.pairs {
                guard guardNames.contains(guardName) else {
                    return "Feed guard \(guardName) is not known: the guards are maxLeavers and maxRecordCountChange"
                }
                if Self.limit(limit) == nil {
                    return "Feed guard \(guardName) must be a number of records or a percentage like \"20%\""
                }
            }
        }
        if let notify = feed["notify"] {
            guard case .array(let names) = notify, names.allSatisfy({ $0.stringValue != nil }) else {
                return "Feed notify must be a list of webhook names"
            }
        }
        return nil
    }

    package static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func isLetterOrDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
        guard isLetterOrDigit(bytes[0]) else { return false }
        return bytes.allSatisfy { isLetterOrDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// A guard value: a non-negative integer, or `"N%"` with N from 0 to 100.
    static func limit(_ value: JSONValue) -> FeedLimit? {
        switch value {
        case .number(let n) where n >= 0 && n == n.rounded() && n <= Double(Int32.max):
            return .records(Int(n))
        case .string(let text) where text.hasSuffix("%"):
            let number = text.dropLast()
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let percent = Double(number), (0...100).contains(percent)
            else { return nil }
            return .percent(percent)
        default:
            return nil
        }
    }

    /// The record's key value: strings as they are, numbers by their JSON text; nil for anything else
    /// or a missing or empty value.
    package func keyValue(of record: JSONValue) -> String? {
        switch record[key] {
        case .string(let text)? where !text.isEmpty: return text
        case .number(let n)?:
            var out = ""
            JSONValue.number(n).write(to: &out)
            return out
        case .integer(let n)?: return String(n)
        default: return nil
        }
    }

    package func missingKeyMessage() -> String { "Record has no value for the feed key \(key)" }
}
