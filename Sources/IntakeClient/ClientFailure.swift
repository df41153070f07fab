import Foundation

/// A failure the person running the command can act on, as one line, and the exit status it
/// stands for.
package struct ClientFailure: Error, CustomStringConvertible {
    package enum Kind: Sendable {
        /// The server refused the input (an invalid control file, an unknown batch, a wrong state),
        /// or a local file could not be read: exit status 2.
        case rejected
        /// The server could not be reached, or refused the key: exit status 3.
        case connection
    }

    package let kind: Kind
    package let description: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.description = message
    }
}
