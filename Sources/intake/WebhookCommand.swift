import ArgumentParser
import Foundation
import IntakeApp
import IntakeStore

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook", abstract: "Add, list and remove webhooks: who is told when a batch ends or is held.",
        discussion: """
            Events: batch.finished (complete, dry-run, error, cancelled, rolled back) and batch.held. \
            A webhook hears about every batch, or with --only-notified only about the batches of feeds \
            whose control file names it in `notify`. Each delivery is signed with the webhook's secret \
            (Intake-Signature: t=…,v1=…, HMAC-SHA256), which is shown once, when it is added.

            Examples:
              intake webhook add ops-chat https://hooks.example.ac.uk/intake
              intake webhook add hr-team https://hr.example.ac.uk/hook \\
                  --events batch.held --only-notified
              intake webhook list
              intake webhook remove ops-chat
            """,
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a webhook; its signing secret is printed once, alone on the last line.")
        @OptionGroup var data: DataOptions
        @Argument(help: "A name for it (letters, digits, '-', '_', '.'), as a feed's notify names it.") var name: String
        @Argument(help: "The http or https URL deliveries are posted to.") var url: String
        @Option(help: "The events it wants, separated by commas (default: batch.finished,batch.held).") var events: String?
        @Flag(help: "Only the batches of feeds whose notify names this webhook (default: every batch).") var onlyNotified = false

        func run() async throws {
            let chosen = events.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            let webhook: WebhookRecord
            do {
                webhook = try await Storage.open(data).service().addWebhook(
                    name: name, url: url, events: chosen, everyBatch: !onlyNotified, by: "command line")
            } catch let error as WebhookError {
                throw ValidationError(error.userMessage)
            }
            print(
                "Added webhook '\(webhook.name)' for \(WebhookRecord.eventsText(webhook.events)) of \(webhook.everyBatch ? "every batch" : "the feeds that notify it")."
            )
            print("Its signing secret is shown only once:")
            print(webhook.secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per webhook: name, URL, events, which batches, created.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            for webhook in try await Storage.open(data).service().webhooks() {
                let fields = [
                    webhook.name, webhook.url, WebhookRecord.eventsText(webhook.events), webhook.everyBatch ? "every batch" : "notified only",
                    Timestamp.string(webhook.created)
                ]
                print(fields.joined(separator: "\t"))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a webhook; its deliveries not yet made are given up.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The webhook's name.") var name: String

        func run() async throws {
            do {
                try await Storage.open(data).service().removeWebhook(name: name, by: "command line")
            } catch let error as WebhookError {
                throw ValidationError(error.userMessage)
            }
            print("Removed webhook '\(name)'.")
        }
    }
}
