import Foundation
import IntakeCore
import IntakeStore
import Logging

/// `intake run`: the same import as the API's, without a server. Files are copied into the blob store
/// (streamed), a batch is recorded, and it runs on the calling thread.
public enum DirectRun {
    public struct Summary: Sendable {
        public var batch: Batch
        public var log: [String]
    }

    public static func copy(path: String, into blobs: BlobStore) throws -> (Digest, Int64) {
        let source = try FileByteSource(path: path)
        let writer = try blobs.makeWriter()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return try writer.finish()
    }

    /// Validates the control file, records the batch and runs it to the end.
    /// - Throws: `ImportFatalError` with the validation messages when the control file is not valid.
    public static func run(environment: ImportEnvironment, controlPath: String, files: [(name: String, path: String)],
                           dryRun: Bool, logger: Logger) async throws -> Summary {
        let (controlDigest, controlSize) = try copy(path: controlPath, into: environment.blobs)
        guard let data = FileManager().contents(atPath: environment.blobs.url(for: controlDigest).path),
              let control = ImportEnvironment.parseControl(Array(data)) else {
            throw ImportFatalError("Control file is not JSON: \(controlPath)")
        }
        if control.containsNUL {
            throw ImportFatalError("Invalid control file:\n  A string in the control file contains a NUL character (\\u0000)")
        }
        let messages = ControlFileValidator(vocabulary: environment.vocabulary).validate(control)
        guard messages.isEmpty else {
            throw ImportFatalError("Invalid control file:" + messages.map { "\n  " + $0 }.joined())
        }
        let store = environment.store
        let now = environment.now()
        try await store.addControlFile(digest: controlDigest, size: controlSize, comment: "intake run", now: now)
        let id = BatchID.random()
        try await store.createBatch(id: id, control: controlDigest, comment: "intake run", state: .uploading, now: now)
        for (name, path) in files {
            let (digest, size) = try copy(path: path, into: environment.blobs)
            let filename = URL(fileURLWithPath: path).lastPathComponent
            try await store.addFile(BatchFile(name: name, digest: digest, size: size, filename: filename), to: id)
        }
        try await store.startDirectRun(id, dryRun: dryRun, by: "intake run", now: now)
        guard let batch = try await store.batch(id) else { throw StoreError.batchNotFound(id) }
        _ = await BatchRun(environment: environment, batch: batch, logger: logger).runOnOwnThread()
        guard let finished = try await store.batch(id) else { throw StoreError.batchNotFound(id) }
        return Summary(batch: finished, log: try await store.log(of: id))
    }
}
