import HTTPTypes
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeStore

/// A push API's answer written as the original wrote it: JSON as JavaScript's
/// `JSON.stringify(response, undefined, 4)`, or XML with control characters removed.
enum PushResponse {
    static func response(_ outcome: PushOutcome, format: PushResponseFormat, withActions: Bool = true) -> Response {
        let status: HTTPResponse.Status =
            switch outcome.result {
            case .success: .ok
            case .notAuthorised: .forbidden
            case .failure, .error: .badRequest
            }
        let (body, type) =
            format == .json
            ? (json(outcome, withActions: withActions), "application/json; charset=utf-8") : (xml(outcome), "application/xml; charset=utf-8")
        var headers: HTTPFields = [.contentType: type]
        if let batch = outcome.batch { headers[HTTPField.Name("Intake-Batch")!] = batch.rawValue }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    // MARK: JSON

    static func json(_ outcome: PushOutcome, withActions: Bool = true) -> String {
        var out = "{\n"
        out += "    \"result\": \(string(outcome.result.rawValue)),\n"
        out += "    \"applied\": \(outcome.applied),\n"
        out += "    \"failures\": \(outcome.failures),\n"
        out += "    \"errorCount\": \(outcome.errorCount),\n"
        out += "    \"errors\": " + array(outcome.errors.map(string), indent: 1)
        if withActions {
            // In the original's order: each action is made with its changes, then given its record.
            let actions = outcome.actions.map { action in
                let changes = action.changed.map { change in
                    object(
                        [
                            ("kind", string(change.kind)), ("destination", string(change.destination)), ("ref", string(change.ref)),
                            ("new", change.isNew ? "true" : "false")
                        ], indent: 4)
                }
                return object([("changed", array(changes, indent: 3)), ("record", string(action.record))], indent: 2)
            }
            out += ",\n    \"actions\": " + array(actions, indent: 1)
        }
        return out + "\n}"
    }

    private static func pad(_ level: Int) -> String { String(repeating: " ", count: 4 * level) }

    /// Members already written; `indent` is the level of the object's own braces.
    private static func object(_ members: [(String, String)], indent: Int) -> String {
        let inner = members.map { pad(indent + 1) + string($0.0) + ": " + $0.1 }
        return "{\n" + inner.joined(separator: ",\n") + "\n" + pad(indent) + "}"
    }

    private static func array(_ elements: [String], indent: Int) -> String {
        guard !elements.isEmpty else { return "[]" }
        return "[\n" + elements.map { pad(indent + 1) + $0 }.joined(separator: ",\n") + "\n" + pad(indent) + "]"
    }

    /// A JSON string as `JSON.stringify` writes it.
    static func string(_ text: String) -> String {
        var out = ""
        JSONValue.writeString(text, to: &out)
        return out
    }

    // MARK: XML

    static func xml(_ outcome: PushOutcome) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<response"
        out += attribute("result", outcome.result.rawValue) + attribute("applied", "\(outcome.applied)")
        out += attribute("failures", "\(outcome.failures)") + attribute("errorCount", "\(outcome.errorCount)") + ">"
        out += outcome.errors.isEmpty ? "<errors/>" : "<errors>" + outcome.errors.map { "<error>\(escaped($0))</error>" }.joined() + "</errors>"
        if outcome.actions.isEmpty {
            out += "<actions/>"
        } else {
            out += "<actions>"
            for action in outcome.actions {
                out += "<record" + attribute("identifier", action.record) + (action.changed.isEmpty ? "/>" : ">")
                guard !action.changed.isEmpty else { continue }
                for change in action.changed {
                    out += "<changed" + attribute("kind", change.kind) + attribute("destination", change.destination)
                    out += attribute("ref", change.ref) + attribute("new", change.isNew ? "true" : "false") + "/>"
                }
                out += "</record>"
            }
            out += "</actions>"
        }
        return out + "</response>\n"
    }

    private static func attribute(_ name: String, _ value: String) -> String { " \(name)=\"\(escaped(value))\"" }

    /// Text and attribute values: markup escaped, and the characters XML 1.0 cannot hold removed
    /// (the original's "remove" control-character policy).
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
