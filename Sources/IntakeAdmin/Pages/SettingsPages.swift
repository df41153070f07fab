import Foundation
import IntakeCore
import IntakeStore

/// The webhooks page: the list, and the form to add one (with what was typed, after a refusal).
struct WebhooksPage: FormPageModel {
    struct Row: Sendable {
        var name: String
        var url: String
        var events: String
        var batches: String
        var created: [String: String]?
    }
    struct Event: Sendable {
        var value: String
        var field: String
        var description: String
        var checked: Bool
    }

    var rows: [Row]
    var hasRows: Bool
    var name: String
    var url: String
    var every: Bool
    var events: [Event]
    var formErrors: FormErrors

    init(webhooks: [WebhookRecord], name: String, url: String, events: Set<WebhookEvent>, every: Bool, errors: FormErrors) {
        rows = webhooks.map { webhook in
            Row(
                name: webhook.name, url: webhook.url, events: WebhookRecord.eventsText(webhook.events).replacingOccurrences(of: ",", with: ", "),
                batches: webhook.everyBatch ? "every batch" : "feeds that notify it", created: Format.time(webhook.created))
        }
        hasRows = !rows.isEmpty
        (self.name, self.url, self.every, formErrors) = (name, url, every, errors)
        self.events = AdminUI.webhookEventDescriptions.map { event, description in
            Event(value: event.rawValue, field: AdminUI.formField(event), description: description, checked: events.contains(event))
        }
    }
}

/// A new webhook, with its secret shown this once.
struct WebhookCreatedPage: Sendable {
    var name: String
    var url: String
    var secret: String
    var events: String
}

/// The API keys, active first, newest first.
struct APIKeysPage: Sendable {
    struct Row: Sendable {
        var id: Int64
        var name: String
        var scope: String
        var created: [String: String]?
        var lastUsed: [String: String]?
        var status: String
        var active: Bool
        var expires: [String: String]?
    }

    var rows: [Row]
    var hasRows: Bool

    init(keys: [APIKeyRecord], now: Date) {
        rows = keys.sorted { a, b in a.revoked != b.revoked ? !a.revoked : (a.created != b.created ? a.created > b.created : a.id > b.id) }
            .map { key in
                Row(
                    id: key.id, name: key.name, scope: key.scope.rawValue, created: Format.time(key.created), lastUsed: Format.time(key.lastUsed),
                    status: key.state(at: now), active: !key.revoked, expires: Format.time(key.expires))
            }
        hasRows = !rows.isEmpty
    }
}

/// The form for a new key.
struct NewAPIKeyPage: FormPageModel {
    struct Scope: Sendable {
        var value: String
        var description: String
        var checked: Bool
    }
    var name: String
    var expires: String
    var scopes: [Scope]
    var formErrors: FormErrors

    init(name: String, scope: APIScope, expires: String, errors: FormErrors) {
        (self.name, self.expires, formErrors) = (name, expires, errors)
        scopes = AdminUI.scopeDescriptions.map { Scope(value: $0.0.rawValue, description: $0.1, checked: $0.0 == scope) }
    }
}

/// A new key: shown once (nil once it was).
struct APIKeyCreatedPage: Sendable {
    var name: String
    var scope: String
    var key: String?
}

/// The signed-in account's page: the password form.
struct AccountPage: FormPageModel {
    var formErrors: FormErrors
}

/// Types (indented under their parents), attributes and qualifiers.
struct SchemaPage: Sendable {
    struct TypeRow: Sendable {
        var code: String
        var name: String
        var parent: String
        var indent: String
        var annotations: String
        var attributes: String
    }
    struct AttributeRow: Sendable {
        var code: String
        var name: String
        var type: String
        var linked: String
    }
    struct QualifierRow: Sendable {
        var code: String
        var name: String
    }

    var types: [TypeRow]
    var attributes: [AttributeRow]
    var qualifiers: [QualifierRow]

    init(schema: Schema) {
        func depth(_ code: String) -> Int { schema.lineage(of: code).count - 1 }
        types = schema.typeOrder.compactMap { schema.types[$0] }.map { type in
            TypeRow(
                code: type.code, name: type.name, parent: type.parent ?? "", indent: String(repeating: "— ", count: max(0, depth(type.code))),
                annotations: type.annotations.joined(separator: ", "), attributes: schema.attributes(ofType: type.code).joined(separator: ", "))
        }
        attributes = schema.attributeOrder.compactMap { schema.attributes[$0] }.map { attribute in
            AttributeRow(
                code: attribute.code, name: attribute.name, type: attribute.dataType.rawValue,
                linked: attribute.linkedTypes.map { schema.types[$0]?.name ?? $0 }.joined(separator: ", "))
        }
        qualifiers = schema.qualifierOrder.compactMap { schema.qualifiers[$0] }.map { QualifierRow(code: $0.code, name: $0.name) }
    }
}

/// The fields every push API form has (`push-api-fields`, rendered inside `{{#fields}}`).
struct PushAPIFormFields: Sendable {
    struct Control: Sendable {
        var digest: String
        var label: String
        var selected: Bool
    }
    var description: String
    var enabled: Bool
    var json: Bool
    var bodyLimit: String
    var controlJSON: String
    /// The control files to choose from, newest first.
    var controls: [Control]

    init(_ form: AdminUI.PushAPIForm, recentControlFiles: [ControlFileRecord]) {
        (description, enabled, json, bodyLimit, controlJSON) = (form.description, form.enabled, form.response == .json, form.bodyLimit, form.controlJSON)
        controls = recentControlFiles.map { record in
            Control(
                digest: record.digest.hex, label: "\(record.comment) — \(Format.short(record.digest.hex))", selected: record.digest.hex == form.controlDigest)
        }
    }
}

/// The push APIs and the form to define one.
struct PushAPIsPage: FormPageModel {
    struct Row: Sendable {
        var name: String
        var path: String
        var url: String
        var enabled: Bool
        var format: String
        var bodyLimit: String
        var description: String
        var updated: [String: String]?
    }
    var rows: [Row]
    var hasRows: Bool
    /// The name typed in the form.
    var name: String
    var fields: PushAPIFormFields
    var formErrors: FormErrors

    init(apis: [PushAPIRecord], name: String, fields: PushAPIFormFields, errors: FormErrors) {
        rows = apis.map { api in
            Row(
                name: api.name, path: AdminPath.pushAPI(api.name), url: "/api/push-data/\(api.name)", enabled: api.enabled,
                format: api.response.rawValue.uppercased(), bodyLimit: Format.size(Int64(api.bodyLimit)), description: api.description,
                updated: Format.time(api.updated))
        }
        hasRows = !rows.isEmpty
        (self.name, self.fields, formErrors) = (name, fields, errors)
    }
}

/// One push API's page: its address, its control file and the form to change it.
struct PushAPIPage: FormPageModel {
    var name: String
    var url: String
    var action: String
    var controlPath: String?
    var controlLabel: String?
    var fields: PushAPIFormFields
    var formErrors: FormErrors
}
