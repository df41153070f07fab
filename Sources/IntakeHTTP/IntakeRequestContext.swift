import Hummingbird
import IntakeStore

/// The per-request context: Hummingbird's core storage plus the authenticated API key.
public struct IntakeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var apiKey: APIKeyRecord?

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }
}
