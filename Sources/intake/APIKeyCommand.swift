import ArgumentParser
import Foundation
import IntakeApp
import IntakeStore

struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey", abstract: "Create, list and revoke API keys.",
        discussion: """
            Scopes: batch (the four steps and the batch extensions), read (the read API under \
            /api/v1/ and intake batches), all (both). Keys are stored as hashes: a key is shown once, \
            when it is created.

            Examples:
              intake apikey create --name nightly-hr-feed --scope batch
              intake apikey list
              intake apikey revoke 3
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; it is printed once, alone on the last line.")
        @OptionGroup var data: DataOptions
        @Option(help: "A name to recognise the key by.") var name: String
        @Option(help: "batch, read, push or all.") var scope: String = "batch"
        @Option(help: "The last day the key works, YYYY-MM-DD (UTC); refused from the next midnight. Default: never expires.")
        var expires: String?
        @Option(help: "Only this push API (scope push).") var pushApi: String?
        @Option(help: "Only the batches of this feed: their control files must name it (scope batch).") var feed: String?

        func run() async throws {
            guard let scope = APIScope(rawValue: scope) else {
                throw ValidationError("Unknown scope '\(scope)': use batch, read, push or all.")
            }
            let id: Int64, key: String
            do {
                guard pushApi == nil || feed == nil else { throw ValidationError("A key is for one push API or one feed, not both.") }
                let restriction = pushApi.map(APIKeyRestriction.pushAPI) ?? feed.map(APIKeyRestriction.feed)
                (id, key) = try await Storage.open(data).service().createAPIKey(
                    name: name, scope: scope, expiresAfter: expires, restriction: restriction)
            } catch let error as APIKeyError {
                throw ValidationError(error.userMessage)
            }
            let until = expires.map { ", valid through \($0) (UTC)" } ?? ""
            print("Created API key \(id) '\(name)' with scope \(scope.rawValue)\(until). It is shown only once:")
            print(key)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One line per key: ID, name, scope, created, last used, state (active, revoked, expired), expiry, restriction.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            for key in try await Storage.open(data).service().apiKeys() {
                let fields = [
                    String(key.id), key.name, key.scope.rawValue, Timestamp.string(key.created),
                    key.lastUsed.map(Timestamp.string) ?? "never", key.state(at: Date()),
                    key.expires.map { "expires " + Timestamp.string($0) } ?? "never expires", key.restriction?.text ?? "unrestricted"
                ]
                print(fields.joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key; it fails with 401 from its next request.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The key's ID, as `intake apikey list` shows it.") var id: Int64

        func run() async throws {
            guard try await Storage.open(data).service().revokeAPIKey(id: id) else {
                throw ValidationError("No API key with ID \(id).")
            }
            print("Revoked API key \(id).")
        }
    }
}
