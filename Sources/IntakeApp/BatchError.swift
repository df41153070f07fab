import Foundation
import IntakeCore
import IntakeStore

/// The refusals of the batch use cases, with the exact messages of the HTTP contract.
package enum BatchError: UserFacingError, Equatable {
    case missingParameter(String)
    case controlFileTooLarge(size: Int64, limit: Int)
    case controlFileNotJSON
    case invalidControlFile([String])
    case controlFileNotFound(String)
    case controlFileMissing(Digest)
    case batchNotFound(String)
    case notUploading(BatchID)
    case notComplete(BatchID)
    case alreadyFinished(BatchID)
    case noFileSpecification(String)
    case invalidMode(String)
    case invalidForce(String)
    case invalidMaxErrors(String)
    case notHeld(BatchID)
    case notFinished(BatchID)
    case noFailedRecords(BatchID)
    case retryOfSnapshotFeed(BatchID, String)
    case retryOfNothingApplied(BatchID)
    case rollbackConflicts([ObjectRef])
    case unreadableFile(String)
    case purged(BatchID, Date)
    /// The admin UI's refusals of an action the batch's state does not allow.
    case wrongState(BatchID)
    case notActive(BatchID)
    case filesNotEditable(BatchID)

    package var kind: ErrorKind {
        switch self {
        case .controlFileTooLarge: .tooLarge
        case .rollbackConflicts, .wrongState, .notActive, .filesNotEditable: .conflict
        case .controlFileMissing: .internalFailure
        default: .invalidRequest
        }
    }

    package var userMessage: String {
        switch self {
        case .missingParameter(let name): "Missing parameter: \(name)"
        case .controlFileTooLarge(let size, let limit): "Control file too large: \(size) bytes, the limit is \(limit) bytes"
        case .controlFileNotJSON: "Uploaded file is not JSON"
        case .invalidControlFile(let messages): "Invalid control file:" + messages.map { "\n  " + $0 }.joined()
        case .controlFileNotFound(let text): "Control file not found: \(text.escapingControlCharacters)"
        case .controlFileMissing(let digest): "Control file \(digest) is missing"
        case .batchNotFound(let text): "Batch not found: \(text.escapingControlCharacters)"
        case .notUploading(let id): "Batch \(id.rawValue) is not in the 'uploading' state"
        case .notComplete(let id): "Batch \(id.rawValue) is not in the 'complete' state"
        case .alreadyFinished(let id): "Batch \(id.rawValue) has already finished"
        case .noFileSpecification(let name):
            "No file specification for \(name.escapingControlCharacters) in control file (and no DEFAULT entry)"
        case .invalidMode(let mode): "Invalid mode: \(mode.escapingControlCharacters)"
        case .invalidForce(let value): "Invalid force: \(value.escapingControlCharacters) (use true or false)"
        case .invalidMaxErrors(let value): "Invalid maxErrors: \(value.escapingControlCharacters) (use a whole number of errors, 0 or more)"
        case .notHeld(let id): "Batch \(id.rawValue) is not in the 'held' state"
        case .notFinished(let id): "Batch \(id.rawValue) has not finished"
        case .noFailedRecords(let id): "Batch \(id.rawValue) has no failed records"
        case .retryOfSnapshotFeed(let id, let feed):
            "Batch \(id.rawValue) is a night of the snapshot feed \(feed.escapingControlCharacters): a batch of its failed records alone would make every other key a leaver. Fix them at the source for the next night, or download them with format=original"
        case .retryOfNothingApplied(let id):
            "Batch \(id.rawValue) applied nothing (its control file asks for all or nothing): a batch of its failed records alone would leave out every record that was not applied. Fix them and send the whole file again"
        case .unreadableFile(let path): "Cannot read the file \(path.escapingControlCharacters)"
        case .purged(let id, let date): "Batch \(id.rawValue) was purged on \(Timestamp.string(date)): its files, log and results are gone"
        case .wrongState: "Batch is in the wrong state."
        case .notActive: "Only a scheduled, running or held batch can be cancelled."
        case .filesNotEditable: "Files can only be changed before the batch is scheduled."
        case .rollbackConflicts(let refs):
            "Rolled back, except these objects, which later changes touched:" + refs.map { "\n  " + $0.text }.joined()
        }
    }
}

extension StoreUnavailable: UserFacingError {
    package var kind: ErrorKind { isOutOfSpace ? .insufficientStorage : .unavailable }
    package var userMessage: String {
        isOutOfSpace
            ? "Insufficient storage: the disk under the database is full, so nothing was changed. Reading still works; free some space and try again."
            : isLock
                ? "The database is busy: another process holds its lock. Nothing was changed; try again shortly."
                : "The database cannot answer right now (\(reason)). Nothing was changed; try again shortly."
    }
}

extension BlobStoreError: UserFacingError {
    package var kind: ErrorKind { isOutOfSpace ? .insufficientStorage : .internalFailure }
    package var userMessage: String {
        isOutOfSpace
            ? "Insufficient storage: the server has no room for this upload (a full disk or a quota), so nothing of it was kept. Free some space and try again."
            : "The server could not store the upload (\(self)); nothing was kept. The server log has the detail."
    }
}
