import Hummingbird
import IntakeStore

/// The per-request context: Hummingbird's core storage plus the authenticated API key.
public struct IntakeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var apiKey: APIKeyRecord?
    /// The client's IP address, for logs and the failed-authentication limit.
    public var remoteAddress: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
