import ArgumentParser
import Foundation
import IntakeApp
import IntakeStore

struct PushAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pushapi", abstract: "Define, list, enable, disable and remove push APIs: POST /api/push-data/NAME.",
        discussion: """
            A push API runs its control file over each request body, synchronously, as a batch \
            (comment "push NAME", the body its file "body"), and answers with what it applied, in JSON \
            or XML, as the original's REST APIs for data push did. Calls need an API key of scope \
            push (or all). See docs/push-apis.md.

            Examples:
              intake pushapi create staff-update --control staff-update.json \\
                  --description "HR's updates between nightly feeds"
              intake pushapi list
              intake pushapi disable staff-update
              intake pushapi remove staff-update
            """,
        subcommands: [Create.self, Update.self, List.self, Enable.self, Disable.self, Remove.self])

    static func format(_ text: String?) throws -> PushResponseFormat? {
        guard let text else { return nil }
        guard let format = PushResponseFormat(rawValue: text.lowercased()) else {
            throw ValidationError("Unknown response format '\(text)': use json or xml.")
        }
        return format
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Define a push API.")
        @OptionGroup var data: DataOptions
        @Argument(help: "Its URL name (a-z, 0-9 and '-'; fixed once created).") var name: String
        @Option(help: "The control file (JSON) it runs; it needs a DEFAULT file specification.") var control: String
        @Option(help: "json or xml (default json).") var response: String?
        @Option(help: "What it is for, shown in lists.") var description: String = ""
        @Option(help: "The largest request body it takes, in bytes (default 1048576).") var bodyLimit: Int?
        @Flag(help: "Define it disabled: calls are refused until it is enabled.") var disabled = false

        func run() async throws {
            let format = try PushAPICommand.format(response) ?? .json
            let service = try await Storage.open(data).service()
            let api = try await refusalsAsValidation {
                try await service.createPushAPI(
                    name: name, description: description, enabled: !disabled, response: format,
                    control: .upload(try await DirectRun.upload(path: control, into: service.environment.blobs)), bodyLimit: bodyLimit,
                    by: "command line")
            }
            print(
                "Defined push API '\(api.name)' (\(api.enabled ? "enabled" : "disabled"), answers in \(api.response.rawValue)): POST /api/push-data/\(api.name)"
            )
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a push API's control file, answer format, description or body limit.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The push API's name.") var name: String
        @Option(help: "A new control file.") var control: String?
        @Option(help: "json or xml.") var response: String?
        @Option(help: "A new description.") var description: String?
        @Option(help: "The largest request body it takes, in bytes.") var bodyLimit: Int?

        func run() async throws {
            let format = try PushAPICommand.format(response)
            let service = try await Storage.open(data).service()
            var source: PushAPIControlSource?
            if let control { source = .upload(try await DirectRun.upload(path: control, into: service.environment.blobs)) }
            _ = try await refusalsAsValidation {
                try await service.updatePushAPI(
                    name: name, description: description, response: format, control: source, bodyLimit: bodyLimit, by: "command line")
            }
            print("Updated push API '\(name)'.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per push API: name, enabled or disabled, format, body limit, control file, description.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            for api in try await Storage.open(data).service().pushAPIs() {
                let fields = [
                    api.name, api.enabled ? "enabled" : "disabled", api.response.rawValue, "\(api.bodyLimit)", String(api.control.prefix(16)),
                    api.description
                ]
                print(fields.joined(separator: "\t"))
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a push API take calls again.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The push API's name.") var name: String

        func run() async throws { try await PushAPICommand.set(name, enabled: true, data: data) }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse a push API's calls (API is disabled: NAME) until it is enabled.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The push API's name.") var name: String

        func run() async throws { try await PushAPICommand.set(name, enabled: false, data: data) }
    }

    static func set(_ name: String, enabled: Bool, data: DataOptions) async throws {
        let service = try await Storage.open(data).service()
        _ = try await refusalsAsValidation { try await service.updatePushAPI(name: name, enabled: enabled, by: "command line") }
        print("\(enabled ? "Enabled" : "Disabled") push API '\(name)'.")
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a push API; the batches of its calls stay.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The push API's name.") var name: String

        func run() async throws {
            let service = try await Storage.open(data).service()
            try await refusalsAsValidation { try await service.removePushAPI(name: name, by: "command line") }
            print("Removed push API '\(name)'.")
        }
    }
}

/// A refusal of a use case (a bad name, a control file's problems) is the user's to fix: said as a
/// usage error, without a stack of types.
private func refusalsAsValidation<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as PushAPIError {
        throw ValidationError(error.userMessage)
    } catch let error as BatchError {
        throw ValidationError(error.userMessage)
    }
}
