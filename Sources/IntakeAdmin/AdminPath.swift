import Foundation
import IntakeCore
import IntakeStore

/// Every path of the admin UI that its Swift code writes, once (as `APIPath` does for the API).
/// The routes (`AdminUI.addRoutes`) are registered under `home`; templates receive these paths
/// from their pages or write the fixed ones themselves.
enum AdminPath {
    static let home = "/admin"
    static let login = "\(home)/login"
    static let logout = "\(home)/logout"
    static let account = "\(home)/account"
    static let batches = "\(home)/batches"
    static let controlFiles = "\(home)/control-files"
    static let newControlFile = "\(controlFiles)/new"
    static let objects = "\(home)/objects"
    static let apiKeys = "\(home)/api-keys"
    static let webhooks = "\(home)/webhooks"
    static let pushAPIs = "\(home)/push-apis"
    static let feeds = "\(home)/feeds"
    static let models = "\(home)/models"
    static let schema = "\(home)/schema"
    static let filters = "\(home)/filters"
    static let docs = "\(home)/docs"

    static func batch(_ id: BatchID) -> String { "\(batches)/\(id.rawValue)" }
    static func batchResults(_ id: BatchID) -> String { "\(batch(id))/results" }
    static func controlFile(_ id: some CustomStringConvertible) -> String { "\(controlFiles)/\(id)" }
    static func object(_ ref: ObjectRef) -> String { "\(objects)/\(ref.text)" }
    static func objectHistory(_ ref: ObjectRef) -> String { "\(object(ref))/history" }
    static func apiKey(_ id: some CustomStringConvertible) -> String { "\(apiKeys)/\(id)" }
    static func webhook(_ name: String) -> String { "\(webhooks)/\(name)" }
    static func pushAPI(_ name: String) -> String { "\(pushAPIs)/\(name)" }
    static func document(_ slug: String) -> String { "\(docs)/\(slug)" }
    static func model(_ name: String) -> String {
        "\(models)/" + (name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? name)
    }
}

extension Crumb {
    /// The first crumb of every page.
    static let home = Crumb("Home", AdminPath.home)
}
