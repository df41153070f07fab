import Foundation
import IntakeCore
import IntakeStore
import Synchronization

/// Reads every file of a batch once, on a thread of its own, to prove it well-formed.
///
/// docs/control-files.md#files-and-readers: a malformed file is fatal before anything is imported. Checking first and
/// importing after made the check a serial tenth of every run, so the run starts transforming at once
/// and the store writer commits nothing until this check has passed (`StoreWriter` keeps its first
/// transaction open until then); if it fails, that transaction is rolled back.
///
/// Sendable without locks of its own: its state is in a `Mutex`, the thread that checks gets the
/// reader factories handed over once (`UncheckedBox`) and uses them alone.
final class WellFormednessCheck: Sendable {
    typealias Failure = BatchRun.FatalRunError

    private struct State {
        var outcome: Result<Int, Failure>?
        var observers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private let decided = DispatchSemaphore(value: 0)

    init(files: [(name: String, makeReader: () throws -> any RecordReader)]) {
        let box = UncheckedBox(files)
        let thread = Thread { [self] in finish(Self.check(box.value)) }
        thread.name = "intake-well-formedness"
        thread.start()
    }

    /// The number of records in the files, or why one is not well-formed.
    private static func check(_ files: [(name: String, makeReader: () throws -> any RecordReader)]) -> Result<Int, Failure> {
        var records = 0
        for file in files {
            do {
                var reader = try file.makeReader()
                records += try reader.checkAll()
            } catch let error as ReaderError {
                return .failure(Failure(error, file: file.name))
            } catch let error as Failure {
                return .failure(error)
            } catch let error as StoreUnavailable {
                return .failure(Failure(message: error.reason, file: file.name, storeUnavailable: error))
            } catch {
                return .failure(Failure(message: "\(error)", file: file.name))
            }
        }
        return .success(records)
    }

    private func finish(_ result: Result<Int, Failure>) {
        let observers = state.withLock { state in
            state.outcome = result
            defer { state.observers = [] }
            return state.observers
        }
        // The outcome is visible before anyone is told, so an observer may block on `wait()`.
        decided.signal()
        for observer in observers { observer() }
    }

    /// The outcome if the check has finished.
    var result: Result<Int, Failure>? { state.withLock { $0.outcome } }

    /// Waits for the outcome: the number of records in the batch's files.
    func wait() -> Result<Int, Failure> {
        decided.wait()
        decided.signal()
        return result!
    }

    /// Calls `observer` once the check has finished (at once if it has), on the checking thread.
    func onFinish(_ observer: @escaping @Sendable () -> Void) {
        let done = state.withLock { state in
            if state.outcome == nil { state.observers.append(observer) }
            return state.outcome != nil
        }
        if done { observer() }
    }
}
