/// Everything a batch needs from its surroundings: schema, models, filters and the object store.
package struct EngineEnvironment {
    package var models: ModelRegistry
    package var filters: [String: FilterDescriptor]
    package var repository: any ObjectRepository
    package var recordProcessors: Set<String>

    package init(
        models: ModelRegistry, filters: [FilterDescriptor] = StandardFilters.all, repository: any ObjectRepository,
        recordProcessors: Set<String> = []
    ) {
        self.models = models
        self.filters = Dictionary(filters.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.repository = repository
        self.recordProcessors = recordProcessors
    }
}

/// A prepared import batch (docs/control-files.md#running-a-batch): the control file compiled against a model.
/// Transform records one by one with `transform(_:identifier:)`.
package final class ImportBatch {
    package let model: Model
    package let control: JSONObject
    let schema: Schema
    let repository: any ObjectRepository
    private let filterDescriptors: [String: FilterDescriptor]
    private var filterInstances: [String: any ValueFilter] = [:]
    private var errorSink: (String) -> Void
    private(set) var instructions: [Instruction] = []
    /// A feed's `leavers` instructions (docs/feeds.md), once prepared.
    private(set) var leaverInstructions: [Instruction] = []
    /// Counts every use of a title mapping, whose answers come from a table read when the batch
    /// started: a record whose transform moved it depends on more than its own values and what
    /// its repository saw it read.
    package internal(set) var titleMappingUses = 0

    /// Every error counted, reported or not.
    package private(set) var errorCount: Int
    /// Deliver every error, lifting the cap of 500 (`report-all-errors`).
    package var reportAllErrors = false
    /// Counts records transformed so far; gives the default `record <n>` identifiers.
    package private(set) var recordCounter: Int
    var currentIdentifier: String?
    var titleHintReported = false

    package static let errorCap = 500
    package static let tooManyErrorsMessage = "Too many errors in import batch, no further errors will be reported"

    /// Validates and prepares the control file.
    /// - Parameters:
    ///   - resumeAt: restores the record counter and error count of a run that stopped part-way.
    /// - Throws: `ImportFatalError` with `Errors in control file:…`, an unknown action or filter.
    package init(
        control: JSONValue, environment: EngineEnvironment, readers: Set<String>,
        resumeAt resume: (records: Int, errors: Int)? = nil,
        errorSink: @escaping (String) -> Void
    ) throws(ImportFatalError) {
        let vocabulary = ControlFileVocabulary(
            models: environment.models, readers: readers,
            filters: Set(environment.filters.keys),
            recordProcessors: environment.recordProcessors)
        let messages = ControlFileValidator(vocabulary: vocabulary).validate(control)
        guard messages.isEmpty, case .object(let root) = control,
            let model = environment.models[root["model"]?.jsForm ?? ""]
        else {
            throw ImportFatalError("Errors in control file:\n  " + messages.joined(separator: "\n  "))
        }
        self.model = model
        self.control = root
        self.schema = environment.models.schema
        self.repository = environment.repository
        self.filterDescriptors = environment.filters
        self.errorCount = 0
        self.recordCounter = resume?.records ?? 0
        // A resumed run already logged its preparation messages; count and deliver nothing twice.
        self.errorSink = resume == nil ? errorSink : { _ in }
        let list = root["instructions"]?.arrayValue ?? []
        var compiler = InstructionCompiler(batch: self)
        self.instructions = try compiler.compile(list)
        if let resume {
            self.errorCount = resume.errors
            self.titleHintReported = true
            self.errorSink = errorSink
        }
    }

    /// Prepares a feed's `leavers` instructions; their problems are reported like the others'.
    package func prepareLeavers(_ list: [JSONValue]) throws(ImportFatalError) {
        var compiler = InstructionCompiler(batch: self, forLeavers: true)
        leaverInstructions = try compiler.compile(list)
    }

    /// Runs the `leavers` instructions for a key that left: no input values, and each destination
    /// its last application saved already loaded with the object saved under it.
    package func transformLeaver(identifier: String, loaded: [(destination: String, object: StoredObject)]) throws -> Transformation {
        currentIdentifier = identifier
        let transformation = Transformation(batch: self, identifier: identifier)
        for (name, object) in loaded where model.destination(name)?.kind == .object {
            transformation.replaceTarget(name, with: .object(ObjectTarget(ref: object.ref, isNew: false, values: object.values)))
        }
        try transformation.run(leaverInstructions, record: .object(JSONObject()))
        return transformation
    }

    /// Counts a record that is not transformed (a feed's skipped or refused record), so the
    /// identifiers of the records after it stay what they would have been; returns its identifier.
    package func passOver(identifier: String? = nil) -> String {
        let id = identifier ?? "record \(recordCounter)"
        recordCounter += 1
        currentIdentifier = id
        return id
    }

    /// Reports a runtime error with the latest record's identifier appended (also a problem of a
    /// record `passOver` counted).
    package func report(_ message: String) {
        if let id = currentIdentifier {
            deliver("\(message) (\(id))")
        } else {
            deliver(message)
        }
    }

    /// Reports a preparation error, which has no record suffix.
    func reportPreparation(_ message: String) {
        deliver(message)
    }

    private func deliver(_ line: String) {
        errorCount += 1
        if reportAllErrors || errorCount < Self.errorCap {
            errorSink(line)
        } else if errorCount == Self.errorCap {
            errorSink(Self.tooManyErrorsMessage)
        }
    }

    /// The batch's one instance of a filter, made on first use.
    func filter(named name: String) -> (any ValueFilter)? {
        if let existing = filterInstances[name] { return existing }
        guard let descriptor = filterDescriptors[name] else { return nil }
        let instance = descriptor.make()
        filterInstances[name] = instance
        return instance
    }

    /// Runs the instructions over one record.
    /// - Throws: `ImportFatalError` for errors that stop the run, or the repository's errors.
    package func transform(_ record: JSONValue, identifier: String? = nil) throws -> Transformation {
        let id = identifier ?? "record \(recordCounter)"
        recordCounter += 1
        currentIdentifier = id
        let transformation = Transformation(batch: self, identifier: id)
        try transformation.run(record)
        return transformation
    }
}
