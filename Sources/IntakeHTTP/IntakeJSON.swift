import IntakeCore

/// JSON rendering helpers for HTTP responses.
enum IntakeJSON {
    static func writeString(_ s: String, to out: inout String) {
        JSONValue.string(s).write(to: &out)
    }

    static func response(_ value: JSONValue) -> String { value.compactJSON }
}
