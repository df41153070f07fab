import Foundation
import IntakeCore
import IntakeStore
import Testing

@testable import IntakeAdmin

/// The keys, webhooks, account and schema pages' models, without a request.
@Suite struct SettingsPagesTests {
    @Test func keysAreListedActiveFirstThenNewestFirst() {
        let day = { (n: Double) in Date(timeIntervalSince1970: 1_800_000_000 + n * 86_400) }
        let page = APIKeysPage(
            keys: [
                APIKeyRecord(id: 1, name: "old", scope: .batch, created: day(0), revoked: false),
                APIKeyRecord(id: 2, name: "revoked", scope: .read, created: day(2), revoked: true),
                APIKeyRecord(id: 3, name: "new", scope: .push, created: day(1), revoked: false, expires: day(3))
            ], now: day(1.5))
        #expect(page.rows.map(\.name) == ["new", "old", "revoked"])
        #expect(page.rows.map(\.active) == [true, true, false])
        #expect(page.rows[0].expires != nil && page.rows[1].expires == nil && page.rows[1].lastUsed == nil)
    }

    /// A refused form comes back with what was typed, its choice kept, and each message beside its
    /// field and in the summary.
    @Test func aRefusedKeyFormShowsItsErrorsAndKeepsTheInput() throws {
        var errors = FormErrors()
        errors.add("name", "An active key already has this name")
        let page = NewAPIKeyPage(name: "<hr>", scope: .push, expires: "", errors: errors)
        #expect(page.scopes.filter(\.checked).map(\.value) == ["push"])
        let html = try AdminRenderer().html(.apiKeyNew, title: "Create API key", session: nil, model: page)
        #expect(html.contains(#"id="error-summary""#) && html.contains(##"<a href="#name">An active key already has this name</a>"##))
        #expect(html.contains(#"id="name-error">An active key already has this name</p>"#))
        #expect(html.contains("&lt;hr&gt;") && !html.contains("<hr>"))
        #expect(!html.contains("expires-error"))
        let clean = try AdminRenderer().html(
            .apiKeyNew, title: "Create API key", session: nil, model: NewAPIKeyPage(name: "x", scope: .batch, expires: "", errors: FormErrors()))
        #expect(!clean.contains("error-summary"))
    }

    @Test func theSchemaPageIndentsSubtypesUnderTheirParents() {
        let page = SchemaPage(schema: StandardSchema.make())
        #expect(page.types.contains { !$0.parent.isEmpty }, "the standard schema has subtypes")
        for type in page.types {
            #expect(type.parent.isEmpty == type.indent.isEmpty, "\(type.code)")
            if let parent = page.types.first(where: { $0.code == type.parent }) {
                #expect(type.indent == parent.indent + "— ", "\(type.code)")
            }
        }
        #expect(page.attributes.contains { $0.code == "dc:attribute:title" })
        #expect(!page.qualifiers.isEmpty)
    }
}

/// The one-message page: its text escaped, a Back link only when there is somewhere to go back to.
@Suite struct MessagePageTests {
    @Test func theMessageIsEscapedAndBackIsShownOnlyWhenGiven() throws {
        let renderer = try AdminRenderer()
        let withBack = renderer.html(.message, title: "Not found", session: nil, model: MessagePage(message: "Batch <x> not found", back: "/admin/batches"))
        #expect(withBack.contains("Batch &lt;x&gt; not found") && withBack.contains(#"<a href="/admin/batches">Back</a>"#))
        let without = renderer.html(.message, title: "Not found", session: nil, model: MessagePage(message: "Gone", back: nil))
        #expect(!without.contains("Back") && without.contains(#"<a href="/admin">Home</a>"#))
    }
}
