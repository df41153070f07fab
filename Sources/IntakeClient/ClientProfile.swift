import Foundation

/// A server and key kept in the client's configuration file, so that scripts need not carry the key
/// on their command line (where `ps` shows it).
///
/// The file is `$XDG_CONFIG_HOME/intake/config` (by default `~/.config/intake/config`), in
/// sections of `name = value` lines:
///
///     [default]
///     server = https://intake.example.ac.uk
///     key = ik_…
///
///     [staging]
///     server = http://127.0.0.1:8080
///     key = ik_…
///
/// A file that holds keys must be readable by its owner only (mode 0600); otherwise it is refused,
/// as ssh refuses a private key others can read.
package struct ClientProfile: Sendable, Equatable {
    package var server: String?
    package var key: String?

    package static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        let base =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".config")
        return (base as NSString).appendingPathComponent("intake/config")
    }

    /// The named profile from the file at `path`; nil when the file does not exist.
    /// - Throws: `ClientFailure` when the file cannot be read, is readable by others, or has no
    ///   such profile (unless it is the default one).
    package static func load(name: String, path: String = defaultPath, required: Bool) throws -> ClientProfile? {
        guard FileManager().fileExists(atPath: path) else {
            if required { throw ClientFailure(.rejected, "There is no configuration file \(path) for the profile \(name)") }
            return nil
        }
        var info = stat()
        guard stat(path, &info) == 0, let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ClientFailure(.rejected, "Cannot read the configuration file \(path)")
        }
        let sections = parse(text)
        if info.st_mode & 0o077 != 0, sections.values.contains(where: { $0.key != nil }) {
            throw ClientFailure(
                .rejected,
                "The configuration file \(path) holds API keys but others can read it (mode \(String(info.st_mode & 0o777, radix: 8))): run chmod 600 \(path)")
        }
        guard let profile = sections[name] else {
            if required { throw ClientFailure(.rejected, "The configuration file \(path) has no [\(name)] profile") }
            return nil
        }
        return profile
    }

    static func parse(_ text: String) -> [String: ClientProfile] {
        var sections: [String: ClientProfile] = [:]
        var current = "default"
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            var profile = sections[current] ?? ClientProfile()
            switch name {
            case "server": profile.server = value
            case "key": profile.key = value
            default: break
            }
            sections[current] = profile
        }
        return sections
    }
}
