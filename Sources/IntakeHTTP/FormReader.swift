import Foundation
import Hummingbird
import IntakeCore
import IntakeStore

/// A submitted form: small text fields, plus streamed files that are still in the blob store's
/// temporary area until the handler accepts or discards them: the API's one `file` part, and, for
/// forms that allow more, every other file part in `uploads` (in the order they arrived).
package final class SubmittedForm {
    package var fields: [String: String] = [:]
    package var file: (any BlobUpload)?
    package var filename: String?
    package var uploads: [FormUpload] = []

    /// Text fields that may repeat (`status=a&status=b`), in order; `fields` keeps the first.
    package var repeatedFields: [(name: String, value: String)] = []

    package func values(_ name: String) -> [String] { repeatedFields.filter { $0.name == name }.map(\.value) }

    func discardAll() {
        file?.discard()
        for upload in uploads { upload.upload.discard() }
    }

    deinit { discardAll() }
}

/// A file part of a form with several files: the part's field name, the streamed bytes and the
/// client's file name.
package struct FormUpload {
    package var field: String
    package var upload: any BlobUpload
    package var filename: String
}

/// Reads `multipart/form-data` (streaming the `file` part to disk while hashing) or
/// `application/x-www-form-urlencoded` bodies, enforcing the upload limit as bytes arrive.
package struct FormReader: Sendable {
    let blobs: any BlobStorage
    let maxUploadBytes: Int64
    /// Whether a part other than `file` is streamed as a file (to `uploads`); the API has none.
    let isFileField: @Sendable (String) -> Bool
    static let maxFieldBytes = 64 * 1024

    package init(blobs: any BlobStorage, maxUploadBytes: Int64, isFileField: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.blobs = blobs
        self.maxUploadBytes = maxUploadBytes
        self.isFileField = isFileField
    }

    package func read(_ request: Request) async throws -> SubmittedForm {
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
        form.repeatedFields = Self.parsePairs(String(buffer: body))
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
        for (key, value) in parsePairs(text) where result[key] == nil { result[key] = value }
        return result
    }

    /// Every `name=value` pair in order, decoded.
    package static func parsePairs(_ text: String) -> [(name: String, value: String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
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
        let isFileField = self.isFileField
        parser.onBody = { bytes in
            if state.name == "file" {
                if state.writer == nil {
                    form.file?.discard()
                    state.writer = try blobs.makeUpload()
                    form.file = state.writer
                    form.filename = state.filename
                }
                try state.writer!.write(bytes)
            } else if let name = state.name, isFileField(name) {
                if state.writer == nil {
                    let writer = try blobs.makeUpload()
                    state.writer = writer
                    form.uploads.append(FormUpload(field: name, upload: writer, filename: state.filename ?? ""))
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
                } else if isFileField(name) {
                    // A browser sends an empty part for a file input left empty: not an upload.
                    if state.writer == nil, let filename = state.filename, !filename.isEmpty {
                        form.uploads.append(FormUpload(field: name, upload: try blobs.makeUpload(), filename: filename))
                    }
                } else {
                    let value = String(decoding: state.text, as: UTF8.self)
                    form.repeatedFields.append((name, value))
                    if form.fields[name] == nil { form.fields[name] = value }
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
            form.discardAll()
            throw APIError.badRequest("Malformed multipart body: \(error.reason)")
        } catch {
            form.discardAll()
            throw error
        }
        // A body that stops before the closing delimiter was cut short (a dropped connection, a
        // client killed mid-upload): what arrived is not the file the client meant to send.
        guard parser.isComplete else {
            form.discardAll()
            form.file = nil
            form.uploads = []
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
