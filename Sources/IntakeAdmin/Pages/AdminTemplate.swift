/// The templates under `Templates/` (a folder per area: Batches, Objects, Settings, Shared, …), by
/// file name: each page names its template once, here.
/// `AdminUITests` checks that every case has its file and every file its case.
enum AdminTemplate: String, CaseIterable, Sendable {
    case account
    case apiKeyCreated = "api-key-created"
    case apiKeyNew = "api-key-new"
    case apiKeys = "api-keys"
    case attributeTable = "attribute-table"
    case batch
    case batches
    case confirm
    case controlFile = "control-file"
    case controlFileNew = "control-file-new"
    case controlFiles = "control-files"
    case doc
    case docs
    case editFiles = "edit-files"
    case errors
    case feed
    case feeds
    case fileRows = "file-rows"
    case filters
    case generate
    case generated
    case history
    case home
    case layout
    case login
    case logout
    case mapping
    case message
    case model
    case models
    case newBatch = "new-batch"
    case object
    case objects
    case pushApi = "push-api"
    case pushApiFields = "push-api-fields"
    case pushApis = "push-apis"
    case results
    case schema
    case version
    case webhookCreated = "webhook-created"
    case webhooks
}
