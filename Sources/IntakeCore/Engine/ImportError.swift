/// An error that stops the whole run (docs/control-files.md#running-a-batch "fatal").
package struct ImportFatalError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}
