import Hummingbird
import IntakeStore
import Synchronization

/// The per-request context: Hummingbird's core storage plus the authenticated API key.
package struct IntakeRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    package var apiKey: APIKeyRecord?
    /// The client's IP address, for logs and the failed-authentication limit.
    package var remoteAddress: String?
    /// Who the request turned out to be, for the access log written around the whole request.
    /// Contexts are values copied into inner middleware; this box is shared by all the copies.
    package let requester = Requester()

    package init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// The name of the API key that authenticated a request, once it has.
package final class Requester: Sendable {
    private let keyName = Mutex<String?>(nil)
    var name: String? { keyName.withLock { $0 } }
    package func authenticated(as name: String) { keyName.withLock { $0 = name } }
}
