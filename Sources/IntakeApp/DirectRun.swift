import Foundation
import IntakeCore
import IntakeRunner
import IntakeStore
import Logging

/// `intake run`: the same import as the API's, without a server, through the same use cases: the
/// control file is checked as an upload is, every file name must have a specification in it, and
/// the batch then runs on a thread of its own under this process's lease.
package enum DirectRun {
    package struct Summary: Sendable {
        package var batch: Batch
        package var log: [String]
    }

    /// Streams a local file into the blob store's temporary area.
    package static func upload(path: String, into blobs: any BlobStorage) async throws -> any BlobUpload {
        let source: FileByteSource
        do {
            source = try FileByteSource(path: path)
        } catch {
            throw BatchError.unreadableFile(path)
        }
        let writer = try blobs.makeUpload()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            try await writer.waitForCapacity()
        }
        return writer
    }

    /// Checks the control file, records the batch and its files, and runs it to the end.
    /// - Parameter watch: called about four times a second with the run's stored progress (what the
    ///   last committed chunk saved); returning false cancels the run, which stops after its current
    ///   record as a cancel through the API does.
    /// - Throws: `BatchError` when the control file or a file name is refused (nothing is run).
    package static func run(
        environment: ImportEnvironment, controlPath: String, files: [(name: String, path: String)],
        dryRun: Bool, logger: Logger, watch: (@Sendable (RunProgress) -> Bool)? = nil
    ) async throws -> Summary {
        let service = ImportService(environment: environment)
        let controlDigest = try await service.addControlFile(try await upload(path: controlPath, into: environment.blobs), comment: "intake run")
        let id = try await service.createBatch(control: controlDigest.hex, comment: "intake run")
        for (name, path) in files {
            _ = try await service.addFile(
                batch: id.rawValue, name: name, upload: try await upload(path: path, into: environment.blobs),
                filename: URL(fileURLWithPath: path).lastPathComponent)
        }
        let store = environment.store
        try await store.startDirectRun(id, dryRun: dryRun, by: "intake run", now: environment.now())
        guard let batch = try await store.batch(id) else { throw StoreError.batchNotFound(id) }
        let watcher = watch.map { watch in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    guard let current = try? await store.batch(id), current.state == .running else { continue }
                    if !watch(current.progress) {
                        try? await service.cancel(batch: id.rawValue)
                        return
                    }
                }
            }
        }
        _ = await BatchRun(environment: environment, batch: batch, logger: logger).runOnOwnThread()
        watcher?.cancel()
        guard let finished = try await store.batch(id) else { throw StoreError.batchNotFound(id) }
        return Summary(batch: finished, log: try await store.log(of: id))
    }
}
