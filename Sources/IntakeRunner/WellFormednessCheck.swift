import Foundation
import IntakeCore

/// Reads every file of a batch once, on a thread of its own, to prove it well-formed.
///
/// CONTROL-FILE.md §3.1: a malformed file is fatal before anything is imported. Checking first and
/// importing after made the check a serial tenth of every run, so the run starts transforming at once
/// and the store writer commits nothing until this check has passed (`StoreWriter` keeps its first
/// transaction open until then); if it fails, that transaction is rolled back.
final class WellFormednessCheck: @unchecked Sendable {
    typealias Failure = BatchRun.FatalRunError

    private let condition = NSCondition()
    private var outcome: Result<Void, Failure>?
    private var observers: [NSCondition] = []

    init(files: [(name: String, makeReader: () throws -> any RecordReader)]) {
        let box = UncheckedBox(files)
        let thread = Thread { [self] in finish(Self.check(box.value)) }
        thread.name = "intake-well-formedness"
        thread.start()
    }

    private static func check(_ files: [(name: String, makeReader: () throws -> any RecordReader)]) -> Result<Void, Failure> {
        for file in files {
            do {
                var reader = try file.makeReader()
                while try reader.skipNext() {}
            } catch let error as ReaderError {
                return .failure(Failure(message: error.message, file: file.name, line: error.line))
            } catch let error as Failure {
                return .failure(error)
            } catch {
                return .failure(Failure(message: "\(error)", file: file.name))
            }
        }
        return .success(())
    }

    private func finish(_ result: Result<Void, Failure>) {
        condition.lock()
        outcome = result
        let waiting = observers
        condition.broadcast()
        condition.unlock()
        // Wakes a writer that waits on its own condition for either this check or more work.
        for observer in waiting {
            observer.lock()
            observer.broadcast()
            observer.unlock()
        }
    }

    /// The outcome if the check has finished.
    var result: Result<Void, Failure>? {
        condition.lock()
        defer { condition.unlock() }
        return outcome
    }

    /// Waits for the outcome.
    func wait() -> Result<Void, Failure> {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        return outcome!
    }

    /// `condition` is broadcast when the check finishes (at once if it has).
    func notify(_ condition: NSCondition) {
        self.condition.lock()
        let done = outcome != nil
        if !done { observers.append(condition) }
        self.condition.unlock()
        if done {
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
    }
}
