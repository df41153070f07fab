import AsyncHTTPClient
import Foundation
import NIOCore

/// Called as an upload's bytes are handed to the connection: bytes sent so far, and the total.
package typealias UploadProgress = @Sendable (_ sent: Int64, _ total: Int64) -> Void

/// A `multipart/form-data` body of text fields and one file, streamed from disk in 256 KiB pieces
/// with its length known in advance (so the server sees a Content-Length, and a retry sends the
/// same bytes again).
struct MultipartFile: Sendable {
    let path: String
    let boundary: String
    let head: ByteBuffer
    let tail: ByteBuffer
    let fileSize: Int64

    var length: Int64 { Int64(head.readableBytes) + fileSize + Int64(tail.readableBytes) }

    init(path: String, fields: [(String, String)]) throws {
        self.path = path
        guard let attributes = try? FileManager().attributesOfItem(atPath: path),
            (attributes[.type] as? FileAttributeType) == .typeRegular,
            let size = attributes[.size] as? NSNumber, FileManager().isReadableFile(atPath: path)
        else {
            throw ClientFailure(.rejected, "Cannot read the file \(path)")
        }
        fileSize = size.int64Value
        boundary = "intake-" + UUID().uuidString
        var head = ""
        for (name, value) in fields {
            head += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        let filename = URL(fileURLWithPath: path).lastPathComponent.replacingOccurrences(of: "\"", with: "'")
        head += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\n"
        head += "Content-Type: application/octet-stream\r\n\r\n"
        self.head = ByteBuffer(string: head)
        tail = ByteBuffer(string: "\r\n--\(boundary)--\r\n")
    }

    func body(progress: UploadProgress?) -> Pieces { Pieces(file: self, progress: progress) }

    /// The body as an async sequence of buffers: the head, the file's bytes, the tail.
    struct Pieces: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let file: MultipartFile
        let progress: UploadProgress?

        func makeAsyncIterator() -> Iterator { Iterator(file: file, progress: progress) }

        struct Iterator: AsyncIteratorProtocol {
            let file: MultipartFile
            let progress: UploadProgress?
            var stage = 0
            var handle: FileHandle?
            var sent: Int64 = 0

            mutating func next() async throws -> ByteBuffer? {
                switch stage {
                case 0:
                    stage = 1
                    guard let opened = FileHandle(forReadingAtPath: file.path) else {
                        throw ClientFailure(.rejected, "Cannot read the file \(file.path)")
                    }
                    handle = opened
                    return counted(file.head)
                case 1:
                    let data = try handle!.read(upToCount: 256 * 1024) ?? Data()
                    if !data.isEmpty { return counted(ByteBuffer(data: data)) }
                    try handle?.close()
                    handle = nil
                    stage = 2
                    return counted(file.tail)
                default:
                    return nil
                }
            }

            private mutating func counted(_ buffer: ByteBuffer) -> ByteBuffer {
                sent += Int64(buffer.readableBytes)
                progress?(sent, file.length)
                return buffer
            }
        }
    }
}
