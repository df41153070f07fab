import Foundation
import IntakeCore

/// A control file checked without a server or a store (`intake validate`): the refusals an upload
/// would get, with the server's exact messages, plus what preparing the file for a run would log.
///
/// Preparation messages (an unknown destination or name, a filter that does not exist, a bad date
/// format…) do not stop an upload: the server accepts the file and writes them at the top of every
/// run's log, where they are easy to miss. Here they are warnings, before anything is uploaded.
/// Preparation runs against an empty object store, so the parts of a control file that look up
/// existing objects (title mappings) are checked for their shape only.
package struct ControlFileCheck: Sendable {
    /// What the server would refuse the upload with: one message, as the API words it.
    package var refusal: String?
    /// Where in the file a JSON syntax error is: `line:column: what`.
    package var syntaxError: String?
    /// What a run would log before its first record.
    package var warnings: [String] = []

    package var isAccepted: Bool { refusal == nil }

    package static func check(bytes: [UInt8], vocabulary: ControlFileVocabulary, filters: [FilterDescriptor] = StandardFilters.all) -> ControlFileCheck {
        var check = ControlFileCheck()
        guard bytes.count <= ImportService.maxControlFileBytes else {
            check.refusal = BatchError.controlFileTooLarge(size: Int64(bytes.count), limit: ImportService.maxControlFileBytes).userMessage
            return check
        }
        let control: JSONValue
        do {
            control = try JSONParser.parse(bytes)
        } catch {
            check.refusal = BatchError.controlFileNotJSON.userMessage
            let (line, column) = position(of: error.offset, in: bytes)
            check.syntaxError = "\(line):\(column): \(error.message)"
            return check
        }
        do {
            try ImportService.validate(control, vocabulary: vocabulary)
        } catch let error as BatchError {
            check.refusal = error.userMessage
            return check
        } catch {
            check.refusal = "\(error)"
            return check
        }
        var warnings: [String] = []
        do {
            _ = try ImportBatch(
                control: control,
                environment: EngineEnvironment(
                    models: vocabulary.models, filters: filters, repository: EmptyObjectRepository(),
                    recordProcessors: vocabulary.recordProcessors),
                readers: vocabulary.readers, errorSink: { warnings.append($0) })
        } catch {
            // Accepted on upload, but every run of it would stop here.
            warnings.append("A run would stop before its first record: \(error.message)")
        }
        check.warnings = warnings
        return check
    }

    /// 1-based line and column (in characters) of a byte offset.
    static func position(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        let end = min(max(offset, 0), bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<end where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        let column = String(decoding: bytes[lineStart..<end], as: UTF8.self).count + 1
        return (line, column)
    }
}

/// An object store with nothing in it, for preparing a control file offline.
final class EmptyObjectRepository: ObjectRepository {
    private var lastRef: Int64 = 0
    func object(_ ref: ObjectRef) throws -> StoredObject? { nil }
    func oldestObject(linkingTo target: ObjectRef, through attribute: String, types: Set<String>) throws -> StoredObject? { nil }
    func ref(forBehaviour code: String) throws -> ObjectRef? { nil }
    func ref(forUsername username: String) throws -> ObjectRef? { nil }
    func titles(ofTypes types: Set<String>, limit: Int) throws -> [(title: String, ref: ObjectRef)]? { [] }
    func allocateRef() throws -> ObjectRef {
        lastRef += 1
        return ObjectRef(lastRef)
    }
    func save(ref: ObjectRef, values: [ObjectValue], isNew: Bool) throws -> SaveOutcome { .created }
    func plannedOutcome(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome { .created }
    func delete(ref: ObjectRef, values: [ObjectValue]) throws -> SaveOutcome { .unchanged }
    func appendDocument(model: String, destination: String, record: String, values: JSONObject) throws {}
}
