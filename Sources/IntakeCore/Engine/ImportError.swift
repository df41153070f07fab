/// An error that stops the whole run (CONTROL-FILE.md §8.3 "fatal").
package struct ImportFatalError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}
