import Foundation
import HummingbirdCore

extension URI {
    /// The query string's parameters as HTML forms send them (`application/x-www-form-urlencoded`):
    /// `+` is a space, then keys and values are percent-decoded. Hummingbird's `queryParameters`
    /// decodes neither a `+` nor the keys, so a search for `Ok+Person` (what a browser sends for a
    /// GET form) looked for "Ok+Person". Every handler reads its query through this.
    package var formParameters: FlatDictionary<Substring, Substring> {
        guard let query, !query.isEmpty else { return .init() }
        func decode(_ part: Substring) -> Substring {
            let spaced = part.contains("+") ? part.replacingOccurrences(of: "+", with: " ") : String(part)
            return (spaced.removingPercentEncoding ?? spaced)[...]
        }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { pair -> (key: Substring, value: Substring) in
            guard let equals = pair.firstIndex(of: "=") else { return (decode(pair), "") }
            return (decode(pair[..<equals]), decode(pair[pair.index(after: equals)...]))
        }
        return .init(pairs)
    }
}
