/// Where a problem of a control file is, and what was probably meant, for `intake validate`. The
/// server's refusals and log lines keep the original's exact words; a person at a terminal also
/// wants `instructions[3].then[0].action`, the line and column, and `did you mean load?`.
package enum ControlFileHints {
    /// `message`, followed by where its value is in the file and, when a known word is close to
    /// it, that word.
    package static func annotate(_ message: String, control: JSONValue, text: [UInt8], vocabulary: ControlFileVocabulary) -> String {
        guard let (value, known) = subject(of: message, vocabulary: vocabulary), !value.isEmpty else { return message }
        var notes: [String] = []
        let found = paths(of: value, in: control, at: "")
        if !found.isEmpty { notes.append("at " + found.prefix(3).joined(separator: ", ") + (found.count > 3 ? ", …" : "")) }
        if let (line, column) = position(of: value, in: text) { notes.append("line \(line), column \(column)") }
        if let suggestion = nearest(value, among: known) { notes.append("did you mean \(suggestion)?") }
        return notes.isEmpty ? message : message + " (" + notes.joined(separator: "; ") + ")"
    }

    /// The value a message is about, and the words it should have been one of.
    static func subject(of message: String, vocabulary: ControlFileVocabulary) -> (String, [String])? {
        if message.hasPrefix("Filter "), message.hasSuffix(" is not available.") {
            return (String(message.dropFirst("Filter ".count).dropLast(" is not available.".count)), vocabulary.filters.sorted())
        }
        guard let colon = message.range(of: ": ", options: .backwards) else { return nil }
        let value = String(message[colon.upperBound...])
        if message.hasPrefix("Unknown action in instruction") { return (value, ControlFileValidator.actions.keys.sorted()) }
        if message.hasPrefix("Unknown reader for file") { return (value, vocabulary.readers.sorted()) }
        if message.hasPrefix("Unknown ") { return (value, []) }
        return nil
    }

    /// The paths of the string values equal to `value` (object keys are not values).
    static func paths(of value: String, in json: JSONValue, at path: String) -> [String] {
        switch json {
        case .string(let s): return s == value ? [path] : []
        case .array(let items):
            return items.enumerated().flatMap { index, item in paths(of: value, in: item, at: "\(path)[\(index)]") }
        case .object(let object):
            return object.keys.flatMap { key in
                paths(of: value, in: object[key] ?? .null, at: path.isEmpty ? key : "\(path).\(key)")
            }
        default: return []
        }
    }

    /// The line and column (from 1) of the first JSON string in `text` holding exactly `value`.
    static func position(of value: String, in text: [UInt8]) -> (Int, Int)? {
        let quoted = Array(("\"" + value + "\"").utf8)
        guard quoted.count <= text.count else { return nil }
        var line = 1
        var lineStart = 0
        for start in 0...(text.count - quoted.count) {
            if text[start] == 0x0A {
                line += 1
                lineStart = start + 1
            }
            if text[start] == quoted[0], text[start..<(start + quoted.count)].elementsEqual(quoted) {
                return (line, start - lineStart + 1)
            }
        }
        return nil
    }

    /// The known word closest to `word` by edit distance, when it is close enough to be a typo.
    static func nearest(_ word: String, among known: [String]) -> String? {
        // A swap of two letters costs 2: allowed from four letters on.
        let limit = word.count <= 3 ? 1 : min(3, max(2, word.count / 3))
        let scored = known.map { ($0, distance(Array(word.lowercased()), Array($0.lowercased()))) }.filter { $0.1 <= limit }
        return scored.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }?.0
    }

    /// Levenshtein distance.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
