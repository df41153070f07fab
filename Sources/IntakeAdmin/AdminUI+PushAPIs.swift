import Foundation
import Hummingbird
import IntakeApp
import IntakeCore
import IntakeHTTP
import IntakeStore

/// The Push APIs pages (docs/push-apis.md): the list with a form to define one, a page to edit one,
/// and enable or disable from the list. Changes are audited by the use cases.
extension AdminUI {
    /// What a push API's form holds, as typed, shown again when it is refused.
    struct PushAPIForm {
        var name = ""
        var description = ""
        var enabled = true
        var response = PushResponseFormat.json
        var bodyLimit = "\(PushAPIRecord.defaultBodyLimit)"
        var controlDigest = ""
        var controlJSON = ""

        init() {}

        init(_ api: PushAPIRecord) {
            (name, description, enabled, response) = (api.name, api.description, api.enabled, api.response)
            (bodyLimit, controlDigest) = ("\(api.bodyLimit)", api.control)
        }

        init(_ form: SubmittedForm, name: String?) {
            let field = { (key: String) in (form.fields[key] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
            self.name = name ?? field("name")
            description = field("description")
            enabled = form.fields["enabled"] == "on"
            response = PushResponseFormat(rawValue: field("response")) ?? .json
            bodyLimit = field("bodyLimit")
            controlDigest = field("control")
            controlJSON = form.fields["controlJSON"] ?? ""
        }
    }

    func addPushAPIRoutes(_ admin: RouterGroup<IntakeRequestContext>) {
        get(admin, "push-apis") { _, _, session in
            try await renderPushAPIs(form: PushAPIForm(), errors: FormErrors(), status: .ok, session: &session)
        }
        post(admin, "push-apis") { _, _, form, session in
            try await savePushAPI(PushAPIForm(form, name: nil), editing: false, session: &session)
        }
        get(admin, "push-apis/:name") { _, context, session in
            guard let api = try await pushAPI(context) else { return notFound("Push API \(context.parameters.get("name") ?? "")", session: session) }
            return try await renderPushAPI(api, form: PushAPIForm(api), errors: FormErrors(), status: .ok, session: &session)
        }
        post(admin, "push-apis/:name") { _, context, form, session in
            guard let api = try await pushAPI(context) else { return notFound("Push API \(context.parameters.get("name") ?? "")", session: session) }
            return try await savePushAPI(PushAPIForm(form, name: api.name), editing: true, session: &session)
        }
        for (action, enabled) in [("enable", true), ("disable", false)] {
            post(admin, "push-apis/:name/\(action)") { _, context, _, session in
                guard let api = try await pushAPI(context) else { return notFound("Push API \(context.parameters.get("name") ?? "")", session: session) }
                _ = try await service.updatePushAPI(name: api.name, enabled: enabled, by: session.account)
                return try await redirect(AdminPath.pushAPIs, flash: "Push API \(api.name) \(enabled ? "enabled" : "disabled").", session: &session)
            }
        }
    }

    func pushAPI(_ context: IntakeRequestContext) async throws -> PushAPIRecord? {
        guard let name = context.parameters.get("name") else { return nil }
        return try await service.pushAPI(named: name)
    }

    /// Fields every form of a push API has, for the templates.
    private func pushAPIFormFields(_ form: PushAPIForm) async throws -> PushAPIFormFields {
        PushAPIFormFields(form, recentControlFiles: try await environment.store.controlFiles(limit: 50, offset: 0))
    }

    func renderPushAPIs(form: PushAPIForm, errors: FormErrors, status: HTTPResponse.Status, session: inout AdminSession) async throws -> Response {
        let page = PushAPIsPage(apis: try await service.pushAPIs(), name: form.name, fields: try await pushAPIFormFields(form), errors: errors)
        return try await render(.pushApis, title: "Push APIs", session: &session, status: status, crumbs: [Crumb.home, Crumb("Push APIs")], model: page)
    }

    func renderPushAPI(
        _ api: PushAPIRecord, form: PushAPIForm, errors: FormErrors, status: HTTPResponse.Status, session: inout AdminSession
    ) async throws -> Response {
        var page = PushAPIPage(
            name: api.name, url: "/api/push-data/\(api.name)", action: AdminPath.pushAPI(api.name), fields: try await pushAPIFormFields(form),
            formErrors: errors)
        if let digest = Digest(hex: api.control), let record = try await environment.store.controlFiles(digest: digest).first {
            page.controlPath = AdminPath.controlFile(record.id)
            page.controlLabel = "\(record.comment) — \(Format.short(record.digest.hex))"
        }
        return try await render(
            .pushApi, title: "Push API: \(api.name)", session: &session, status: status,
            crumbs: [Crumb.home, Crumb("Push APIs", AdminPath.pushAPIs), Crumb(api.name)], model: page)
    }

    /// Creates or updates from the form: a pasted control file wins over a chosen one.
    func savePushAPI(_ form: PushAPIForm, editing: Bool, session: inout AdminSession) async throws -> Response {
        var errors = FormErrors()
        let bodyLimit = Int(form.bodyLimit)
        if bodyLimit == nil { errors.add("bodyLimit", PushAPIError.invalidBodyLimit(0).userMessage.replacingOccurrences(of: ": 0", with: "")) }
        var source: PushAPIControlSource?
        if !form.controlJSON.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let upload = try environment.blobs.makeUpload()
            try Array(form.controlJSON.utf8).withUnsafeBytes { try upload.write($0) }
            source = .upload(upload)
        } else if let digest = Digest(hex: form.controlDigest) {
            source = .stored(digest)
        } else if !editing {
            errors.add("control", "Choose one of the uploaded control files, or paste one")
        }
        if errors.isEmpty {
            do {
                let saved =
                    editing
                    ? try await service.updatePushAPI(
                        name: form.name, description: form.description, enabled: form.enabled, response: form.response, control: source,
                        bodyLimit: bodyLimit, by: session.account)
                    : try await service.createPushAPI(
                        name: form.name, description: form.description, enabled: form.enabled, response: form.response,
                        control: source!, bodyLimit: bodyLimit, by: session.account)
                return try await redirect(
                    AdminPath.pushAPIs, flash: "Push API \(saved.name) \(editing ? "saved" : "created"): POST /api/push-data/\(saved.name)",
                    session: &session)
            } catch let error as PushAPIError {
                switch error {
                case .invalidName, .exists, .notFound: errors.add("name", error.userMessage)
                case .invalidBodyLimit: errors.add("bodyLimit", error.userMessage)
                case .invalidDescription: errors.add("description", error.userMessage)
                case .noFileSpecification: errors.add("control", error.userMessage)
                }
            } catch let error as BatchError {
                errors.add("control", error.userMessage)
            }
        } else {
            source?.discard()
        }
        if editing, let api = try await service.pushAPI(named: form.name) {
            return try await renderPushAPI(api, form: form, errors: errors, status: .badRequest, session: &session)
        }
        return try await renderPushAPIs(form: form, errors: errors, status: .badRequest, session: &session)
    }
}
