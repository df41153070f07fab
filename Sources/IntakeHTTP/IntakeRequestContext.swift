import Hummingbird
import IntakeStore

/// The per-request context: Hummingbird's core storage plus the authenticated API key.
package struct IntakeRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    package var apiKey: APIKeyRecord?
    /// The client's IP address, for logs and the failed-authentication limit.
    package var remoteAddress: String?

    package init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
