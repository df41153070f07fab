import Foundation
import Hummingbird
import IntakeCore
import IntakeStore

/// A submitted form: small text fields, plus at most one streamed file that is still in the
/// blob store's temporary area until the handler accepts or discards it.
final class SubmittedForm {
    var fields: [String: String] = [:]
    var file: (any BlobUpload)?
    var filename: String?

    deinit { file?.discard() }
}

/// Reads `multipart/form-data` (streaming the `file` part to disk while hashing) or
/// `application/x-www-form-urlencoded` bodies, enforcing the upload limit as bytes arrive.
struct FormReader: Sendable {
    let blobs: any BlobStorage
    let maxUploadBytes: Int64
    static let maxFieldBytes = 64 * 1024

    func read(_ request: Request) async throws -> SubmittedForm {
        let form = try await readFields(request)
        // A NUL would be stored cut short by C strings and echoed raw in messages: refuse it.
        for (name, value) in form.fields where name.utf8.contains(0) || value.utf8.contains(0) {
            throw APIError.badRequest("Parameter \(name.escapingControlCharacters) contains a NUL character")
        }
        if let filename = form.filename, filename.utf8.contains(0) {
            throw APIError.badRequest("Parameter file has a file name that contains a NUL character")
        }
        return form
    }

    private func readFields(_ request: Request) async throws -> SubmittedForm {
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }), length > maxUploadBytes {
            throw APIError.tooLarge
        }
        let contentType = request.headers[.contentType] ?? ""
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            guard let boundary = Self.boundary(contentType) else { throw APIError.badRequest("Malformed multipart body") }
            return try await readMultipart(request, boundary: boundary)
        }
        let form = SubmittedForm()
        var body = ByteBuffer()
        for try await chunk in request.body {
            guard body.readableBytes + chunk.readableBytes <= Self.maxFieldBytes * 16 else { throw APIError.tooLarge }
            var chunk = chunk
            body.writeBuffer(&chunk)
        }
        form.fields = Self.parseURLEncoded(String(buffer: body))
        if let query = request.uri.query {
            for (k, v) in Self.parseURLEncoded(query) where form.fields[k] == nil { form.fields[k] = v }
        }
        return form
    }

    static func boundary(_ contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }

    static func parseURLEncoded(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            let key = decode(parts[0])
            if result[key] == nil { result[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }

    /// Parses the Content-Disposition parameters `name` and `filename`.
    static func disposition(_ value: String) -> (name: String?, filename: String?) {
        var name: String?, filename: String?
        for parameter in value.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            var v = pair[1]
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            switch pair[0].lowercased() {
            case "name": name = v
            case "filename": filename = v
            default: break
            }
        }
        return (name, filename)
    }

    private func readMultipart(_ request: Request, boundary: String) async throws -> SubmittedForm {
        let form = SubmittedForm()
        var parser = MultipartStreamParser(boundary: boundary)
        let state = PartState()
        parser.onHeader = { name, value in
            if name.lowercased() == "content-disposition" {
                let d = Self.disposition(value)
                state.name = d.name
                state.filename = d.filename
            }
        }
        parser.onBody = { bytes in
            if state.name == "file" {
                if state.writer == nil {
                    form.file?.discard()
                    state.writer = try blobs.makeUpload()
                    form.file = state.writer
                    form.filename = state.filename
                }
                try state.writer!.write(bytes)
            } else {
                guard state.text.count + bytes.count <= Self.maxFieldBytes else {
                    throw APIError.badRequest("Form field \((state.name ?? "").escapingControlCharacters) is too long")
                }
                state.text.append(contentsOf: bytes)
            }
        }
        parser.onPartComplete = {
            if let name = state.name {
                if name == "file" {
                    if state.writer == nil {
                        // An empty file part still counts as an (empty) upload.
                        form.file?.discard()
                        form.file = try blobs.makeUpload()
                        form.filename = state.filename
                    }
                } else if form.fields[name] == nil {
                    form.fields[name] = String(decoding: state.text, as: UTF8.self)
                }
            }
            state.reset()
        }
        var total: Int64 = 0
        do {
            for try await chunk in request.body {
                total += Int64(chunk.readableBytes)
                if total > maxUploadBytes { throw APIError.tooLarge }
                try chunk.withUnsafeReadableBytes { try parser.execute($0) }
                // Back-pressure: a client faster than the disk waits here, suspended, not blocking.
                if let writer = state.writer { try await writer.waitForCapacity() }
            }
        } catch let error as MultipartStreamParser.Failure {
            form.file?.discard()
            throw APIError.badRequest("Malformed multipart body: \(error.reason)")
        } catch {
            form.file?.discard()
            throw error
        }
        // A body that stops before the closing delimiter was cut short (a dropped connection, a
        // client killed mid-upload): what arrived is not the file the client meant to send.
        guard parser.isComplete else {
            form.file?.discard()
            form.file = nil
            throw APIError.badRequest("Incomplete multipart body: it ends before the closing boundary, so the upload was cut short; nothing was kept")
        }
        if let query = request.uri.query {
            for (k, v) in Self.parseURLEncoded(query) where form.fields[k] == nil { form.fields[k] = v }
        }
        return form
    }
}

private final class PartState {
    var name: String?
    var filename: String?
    var writer: (any BlobUpload)?
    var text: [UInt8] = []

    func reset() {
        name = nil
        filename = nil
        writer = nil
        text = []
    }
}
