import Hummingbird
import IntakeCore

/// A failed request: the status and the exact text/plain message of docs/api.md.
package struct APIError: HTTPResponseError, UserFacingError, Sendable {
    package var status: HTTPResponse.Status
    package var message: String
    package var extraHeaders: HTTPFields

    package var kind: ErrorKind { status.errorKind }
    package var userMessage: String { message }

    package init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.extraHeaders = headers
    }

    package static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }
    package static let unauthorized = APIError(
        .unauthorized, "Unauthorized",
        headers: [.wwwAuthenticate: "Basic realm=\"Intake\""])
    package static let forbidden = APIError(.forbidden, "Forbidden")
    package static let methodNotAllowed = APIError(.methodNotAllowed, "Method Not Allowed")
    package static let tooLarge = APIError(.contentTooLarge, "Upload too large")

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = extraHeaders
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: message)))
    }
}

/// A JSON error of the read API: `{"error": "message"}`.
package struct JSONAPIError: HTTPResponseError, UserFacingError, Sendable {
    package var status: HTTPResponse.Status
    package var message: String

    package var kind: ErrorKind { status.errorKind }
    package var userMessage: String { message }

    package init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = JSONValue.object(JSONObject([("error", .string(message))])).compactJSON
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

enum TextResponse {
    static func plain(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension HTTPResponse.Status {
    /// The kind of failure a response status stands for, so that the API's own errors are
    /// `UserFacingError`s like the application's (their responses are still written from the
    /// status). Refusals of access (401, 403, 405, 404) are mistakes in the request.
    var errorKind: ErrorKind {
        switch code {
        case 409: .conflict
        case 413: .tooLarge
        case 503: .unavailable
        case 507: .insufficientStorage
        case 500...: .internalFailure
        default: .invalidRequest
        }
    }
}
