/// An error that stops the whole run (CONTROL-FILE.md §8.3 "fatal").
public struct ImportFatalError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
