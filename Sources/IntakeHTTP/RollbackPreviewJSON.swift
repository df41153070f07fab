import IntakeApp
import IntakeCore

/// The JSON of `GET rollback-preview` (docs/api.md): counts, and the first entries of each list.
enum RollbackPreviewJSON {
    static func text(_ preview: RollbackPreview) -> String {
        func refs(_ refs: [ObjectRef]) -> JSONValue { .array(refs.map { .string($0.text) }) }
        func count(_ n: Int) -> JSONValue { .number(Double(n)) }
        return JSONValue.object(
            JSONObject([
                ("delete", refs(preview.delete)),
                ("deleteCount", count(preview.deleteCount)),
                (
                    "restore",
                    .array(
                        preview.restore.map { entry in
                            .object(JSONObject([("ref", .string(entry.ref.text)), ("version", count(entry.version))]))
                        })
                ),
                ("restoreCount", count(preview.restoreCount)),
                ("conflicts", refs(preview.conflicts)),
                ("conflictCount", count(preview.conflictCount)),
                ("feedKeys", .array(preview.feedKeys.map(JSONValue.string))),
                ("feedKeyCount", count(preview.feedKeyCount)),
                ("listLimit", count(RollbackPreview.listLimit))
            ])
        ).compactJSON
    }
}
