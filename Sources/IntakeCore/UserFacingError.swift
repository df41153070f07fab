/// What kind of failure an error is, for whoever reports it: the HTTP layer picks a status from it,
/// the command line an exit code, the log a level.
package enum ErrorKind: Sendable, Equatable {
    /// The request or input is wrong; the message says how. (HTTP 400.)
    case invalidRequest
    /// The input is larger than a limit. (413.)
    case tooLarge
    /// The request conflicts with the state of what it touches. (409.)
    case conflict
    /// Not now: the store is busy or locked; try again. (503.)
    case unavailable
    /// No room to store the input. (507.)
    case insufficientStorage
    /// A failure of the server itself. (500.)
    case internalFailure
}

/// An error whose message is meant for the person or script that made the request: it says what was
/// wrong, in words, without SQL, paths or stack traces. Every layer reports these the same way.
package protocol UserFacingError: Error {
    var kind: ErrorKind { get }
    var userMessage: String { get }
}

extension UserFacingError {
    /// Failures of the server are worth an operator's attention; mistakes in requests are not.
    package var isServerFailure: Bool {
        switch kind {
        case .unavailable, .insufficientStorage, .internalFailure: true
        default: false
        }
    }
}
