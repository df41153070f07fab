import Foundation

/// Defaults for the server's options from the environment and an optional configuration file, so
/// a service manager can configure Intake without a long command line. A flag on the command line
/// wins over the environment (`INTAKE_PORT=9000`), which wins over the file named by
/// `INTAKE_CONFIG` (`port = 9000`), which wins over the built-in default. Names are the long option
/// names: `max-upload-bytes` is `INTAKE_MAX_UPLOAD_BYTES` in the environment.
///
/// The file has one `name = value` per line; blank lines and lines starting with `#` are ignored.
/// A value that cannot be used (a port that is not a number, an unknown name in the file, a file
/// that cannot be read) stops the command with a message naming it, before anything starts.
enum Settings {
    /// The file's settings, read once. Immutable after that first read.
    private static let file: [String: String] = {
        guard let path = ProcessInfo.processInfo.environment["INTAKE_CONFIG"], !path.isEmpty else { return [:] }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            fail("Cannot read the configuration file \(path) (INTAKE_CONFIG)")
        }
        var values: [String: String] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                fail("\(path) line \(number + 1): expected name = value, got \(line)")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard known.contains(name) else {
                fail("\(path) line \(number + 1): unknown setting \(name) (known: \(known.sorted().joined(separator: ", ")))")
            }
            values[name] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return values
    }()

    static let known: Set<String> = [
        "data", "host", "port", "max-upload-bytes", "header-timeout", "idle-timeout", "max-connections",
        "metrics-auth", "max-crashes", "failed-auth-limit", "log-level", "log-format", "behind-tls", "database-url", "pool-size", "workers"
    ]

    static func environmentName(_ name: String) -> String {
        "INTAKE_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The value for `name`, and where it came from, or nil for the built-in default.
    static func value(_ name: String) -> (value: String, source: String)? {
        let variable = environmentName(name)
        if let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty { return (value, variable) }
        if let value = file[name] { return (value, "\(ProcessInfo.processInfo.environment["INTAKE_CONFIG"] ?? "") (\(name))") }
        return nil
    }

    static func string(_ name: String, default fallback: String) -> String { value(name)?.value ?? fallback }

    static func int<T: FixedWidthInteger>(_ name: String, default fallback: T) -> T {
        guard let (text, source) = value(name) else { return fallback }
        guard let number = T(text) else { fail("\(source) must be a whole number, not \(text)") }
        return number
    }

    static func bool(_ name: String, default fallback: Bool) -> Bool {
        guard let (text, source) = value(name) else { return fallback }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: fail("\(source) must be true or false, not \(text)")
        }
    }

    static func choice<T: RawRepresentable>(_ name: String, default fallback: T) -> T where T.RawValue == String {
        guard let (text, source) = value(name) else { return fallback }
        guard let choice = T(rawValue: text) else { fail("\(source) is not a valid value: \(text)") }
        return choice
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
        exit(2)
    }
}
