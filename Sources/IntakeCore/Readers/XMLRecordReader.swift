import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// `xml-text-of-children` and `xml-attributes` (docs/control-files.md#files-and-readers), streamed with Foundation's
/// SAX `XMLParser`. The parser pushes; records are handed to the pulling engine through a small
/// bounded queue, so memory stays flat however big the file. The charset comes from the XML
/// declaration (libxml2 decodes it). A DOCTYPE that declares entities is refused before the parser
/// sees it, so external entities are never resolved and entity expansion attacks cannot start.
package final class XMLRecordReader: PipedRecordReader {
    package enum Fields: Sendable { case textOfChildren, attributes }

    let pipe: RecordPipe
    let input: GuardedInputStream
    private let fileName: String
    private let fields: Fields
    private let singleRecord: Bool
    private let maxRecordBytes: Int
    /// The parser starts with the first record asked for, or with `checkAll`, never both.
    private var started = false

    package init(
        fileName: String, source: any ByteSource, fields: Fields, singleRecord: Bool,
        maxRecordBytes: Int = RecordSizeLimit.defaultBytes
    ) {
        pipe = RecordPipe()
        input = GuardedInputStream(source)
        self.fileName = fileName
        self.fields = fields
        self.singleRecord = singleRecord
        self.maxRecordBytes = maxRecordBytes
    }

    deinit { pipe.cancel() }

    package func next() throws(ReaderError) -> SourceRecord? {
        if !started { startParsing() }
        return try pipe.take()
    }

    private func startParsing() {
        started = true
        let (pipe, fileName, fields, singleRecord, maxRecordBytes) = (pipe, fileName, fields, singleRecord, maxRecordBytes)
        parseOnOwnThread(
            name: "intake-xml-reader", input: input,
            makeDelegate: {
                XMLRecordBuilder(pipe: pipe, fields: fields, singleRecord: singleRecord, maxRecordBytes: maxRecordBytes)
            }
        ) { parser, ok, builder, input in
            if let failure = Self.failure(fileName: fileName, parser: parser, ok: ok || pipe.isCancelled, builder: builder, input: input) {
                pipe.fail(failure)
            } else {
                pipe.finish()
            }
        }
    }

    /// The well-formedness pass: the whole document is parsed on the calling thread and checked as
    /// `next()` would check it (syntax, record size, the input guard), but no record is built or
    /// handed over. Building them, on a second parser thread, had made an XML run parse and build
    /// every record twice.
    package func checkAll() throws(ReaderError) -> Int {
        precondition(!started, "checkAll reads the whole document")
        started = true
        let parser = XMLParser(stream: input)
        parser.shouldResolveExternalEntities = false
        let builder = XMLRecordBuilder(pipe: nil, fields: fields, singleRecord: singleRecord, maxRecordBytes: maxRecordBytes)
        parser.delegate = builder
        let ok = parser.parse()
        if let failure = Self.failure(fileName: fileName, parser: parser, ok: ok, builder: builder, input: input) { throw failure }
        return builder.records
    }

    /// What stopped a parse, if anything did.
    private static func failure(fileName: String, parser: XMLParser, ok: Bool, builder: XMLRecordBuilder, input: GuardedInputStream)
        -> ReaderError?
    {
        if let recordLine = builder.oversizedRecordLine {
            return RecordSizeLimit.exceeded(fileName: fileName, line: recordLine, limit: builder.maxRecordBytes)
        } else if let refusal = input.refusal {
            return ReaderError("XML file \(fileName) refused: \(refusal)", line: nil)
        } else if let error = input.readError {
            return ReaderError("Could not read \(fileName): \(error)", retryable: error is any RetryableFailure)
        } else if !ok {
            let code = (parser.parserError as NSError?)?.code ?? 0
            let name = XMLParser.ErrorCode(rawValue: code).map { "\($0)" } ?? "error"
            return ReaderError(
                "XML syntax error in \(fileName) at line \(parser.lineNumber), column \(parser.columnNumber) (\(name), code \(code))",
                line: parser.lineNumber)
        } else if !builder.sawRoot || builder.openElements != 0 {
            // libxml2's push parser can stop at the end of the stream without noticing open elements.
            let problem = builder.sawRoot ? "the document ends before its root element is closed" : "there is no root element"
            return ReaderError("XML syntax error in \(fileName) at line \(parser.lineNumber): \(problem)", line: parser.lineNumber)
        }
        return nil
    }
}

/// A reader fed by a parser thread through a `RecordPipe`; the XML and xlsx readers share this.
protocol PipedRecordReader: RecordReader {
    var pipe: RecordPipe { get }
    var input: GuardedInputStream { get }
}

extension PipedRecordReader {
    package var bytesRead: Int { input.bytesRead }

    package func next() throws(ReaderError) -> SourceRecord? {
        try pipe.take()
    }
}

/// Builds records from SAX events; without a pipe (the well-formedness pass) it only follows the
/// structure and counts each record's bytes.
final class XMLRecordBuilder: NSObject, XMLParserDelegate {
    private let pipe: RecordPipe?
    private let fields: XMLRecordReader.Fields
    private let singleRecord: Bool
    private var depth = 0
    private(set) var sawRoot = false
    var openElements: Int { depth }
    private var record = LastWinsObjectBuilder()
    private var recordLine = 0
    private var fieldName: String?
    private var fieldText = ""
    let maxRecordBytes: Int
    private var recordBytes = 0
    /// Set when a record grew past `maxRecordBytes`; parsing was aborted there.
    private(set) var oversizedRecordLine: Int?
    /// Records ended so far.
    private(set) var records = 0

    init(pipe: RecordPipe?, fields: XMLRecordReader.Fields, singleRecord: Bool, maxRecordBytes: Int) {
        self.pipe = pipe
        self.fields = fields
        self.singleRecord = singleRecord
        self.maxRecordBytes = maxRecordBytes
    }

    /// Counts a record's text; past the limit, stops the parser.
    private func grow(_ parser: XMLParser, by count: Int) {
        recordBytes += count
        if recordBytes > maxRecordBytes, oversizedRecordLine == nil {
            oversizedRecordLine = recordLine
            parser.abortParsing()
        }
    }

    private var recordDepth: Int { singleRecord ? 0 : 1 }

    /// The name without its namespace prefix. By UTF-8 code unit: this runs for every element, and
    /// searching by `Character` cost more than the rest of the callback (the colon is ASCII, so the
    /// split cannot fall inside a character).
    static func localName(_ name: String) -> String {
        let utf8 = name.utf8
        guard let colon = utf8.lastIndex(of: UInt8(ascii: ":")) else { return name }
        return String(name[utf8.index(after: colon)...])
    }

    static func isNamespaceDeclaration(_ name: String) -> Bool {
        name == "xmlns" || name.hasPrefix("xmlns:")
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes: [String: String] = [:]
    ) {
        sawRoot = true
        if depth == recordDepth {
            recordBytes = 0
            recordLine = parser.lineNumber
            if fields == .attributes {
                // Keyed by the names as written, prefix included, with namespace declarations as
                // attributes like any other (the original did both). The parser reports attributes
                // without their order: declarations come first, as libxml2 reads them, and each
                // group is in name order, as the original's DOM listed attributes.
                let named = attributes.sorted { a, b in
                    let (aDeclares, bDeclares) = (Self.isNamespaceDeclaration(a.key), Self.isNamespaceDeclaration(b.key))
                    return aDeclares != bDeclares ? aDeclares : a.key < b.key
                }
                for (name, value) in named {
                    if pipe != nil { record.set(name, .string(value)) }
                    grow(parser, by: name.utf8.count + value.utf8.count)
                }
            }
        } else if depth == recordDepth + 1, fields == .textOfChildren {
            fieldName = Self.localName(elementName)
            fieldText = ""
        }
        depth += 1
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        depth -= 1
        if depth == recordDepth + 1, let name = fieldName {
            if pipe != nil { record.set(name, .string(fieldText)) }  // duplicates: the last wins, in its own position
            fieldName = nil
        } else if depth == recordDepth {
            records += 1
            if let pipe, !pipe.put(SourceRecord(value: .object(record.take()), line: recordLine)) { parser.abortParsing() }
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard fieldName != nil, oversizedRecordLine == nil else { return }
        grow(parser, by: string.utf8.count)
        if pipe != nil { fieldText += string }
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard fieldName != nil, oversizedRecordLine == nil else { return }
        grow(parser, by: CDATABlock.count)
        if pipe != nil { fieldText += String(decoding: CDATABlock, as: UTF8.self) }
    }
}

/// Feeds a byte source to `XMLParser` and refuses documents whose DOCTYPE declares entities.
final class GuardedInputStream: InputStream {
    private var source: any ByteSource
    private(set) var bytesRead = 0
    private(set) var refusal: String?
    private(set) var readError: (any Error)?
    private var prolog: [UInt8] = []
    private var prologDone = false
    private var atEnd = false
    private var encoding = UTF8StreamValidator()
    private var instructions = EmptyProcessingInstructionScanner()

    init(_ source: any ByteSource) {
        self.source = source
        super.init(data: Data())
    }

    override func open() {}
    override func close() {}
    override var hasBytesAvailable: Bool { !atEnd }
    override var streamStatus: Stream.Status { refusal != nil || readError != nil ? .error : atEnd ? .atEnd : .open }
    override var streamError: (any Error)? {
        refusal == nil && readError == nil ? nil : NSError(domain: "Intake", code: 1)
    }

    private static let patterns: [[UInt8]] = {
        let ascii = Array("<!ENTITY".utf8)
        return [ascii, ascii.flatMap { [$0, 0] }, ascii.flatMap { [0, $0] }]
    }()

    /// Where the root element's start tag begins: `<` followed by a name character, in UTF-8 or UTF-16.
    static func rootElementStart(in bytes: [UInt8]) -> Int? {
        func isNameStart(_ b: UInt8) -> Bool {
            (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":") || b >= 0x80
        }
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: "<") {
                if isNameStart(bytes[i + 1]) { return i }
                // UTF-16: "<" 00 X 00 (little-endian) or 00 "<" 00 X (big-endian)
                if bytes[i + 1] == 0, i + 2 < bytes.count, isNameStart(bytes[i + 2]) { return i }
                if i > 0, bytes[i - 1] == 0, i + 2 < bytes.count, bytes[i + 1] == 0, isNameStart(bytes[i + 2]) { return i }
            }
            i += 1
        }
        return nil
    }

    override func read(_ buffer: UnsafeMutablePointer<UInt8>, maxLength len: Int) -> Int {
        guard refusal == nil else { return -1 }
        let n: Int
        do {
            n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: len))
        } catch {
            readError = error
            return -1
        }
        if n == 0 { atEnd = true; return 0 }
        bytesRead += n
        guard encoding.accept(UnsafeBufferPointer(start: buffer, count: n)) else {
            refusal = "it is not valid UTF-8 (byte \(encoding.offset + 1))"
            return -1
        }
        guard instructions.accept(UnsafeBufferPointer(start: buffer, count: n)) else {
            refusal = "it has a processing instruction without data (<?name?>), which the XML parser cannot read safely"
            return -1
        }
        if !prologDone {
            // Entity declarations can only appear in the DOCTYPE, before the root element starts, so the
            // bytes are checked until then. A prolog longer than 1 MiB is refused rather than scanned.
            prolog.append(contentsOf: UnsafeBufferPointer(start: buffer, count: n))
            let rootStart = Self.rootElementStart(in: prolog)
            let checked = rootStart.map { prolog[..<$0] } ?? prolog[...]
            for pattern in Self.patterns where checked.firstRange(of: pattern) != nil {
                refusal = "its DOCTYPE declares entities, which Intake does not expand (external entities are never read)"
                return -1
            }
            if (rootStart ?? prolog.count) > 1 << 20 {
                refusal = "its prolog (before the root element) is longer than 1 MiB"
                return -1
            }
            if rootStart != nil {
                prologDone = true
                prolog = []
            }
        }
        return n
    }
}

/// Parses `input` on a thread of its own: `XMLParser` only pushes events, while readers are pulled,
/// so the two meet at a `RecordPipe`. The delegate is made on that thread and handed to `finish`
/// with the stream, whose refusal or read error explains a failed parse.
func parseOnOwnThread<Delegate: NSObject & XMLParserDelegate>(
    name: String, input: GuardedInputStream, makeDelegate: @escaping @Sendable () -> Delegate,
    finish: @escaping @Sendable (XMLParser, Bool, Delegate, GuardedInputStream) -> Void
) {
    // Foundation marks `InputStream` as never Sendable, whatever a subclass says; the stream is used
    // by the parser thread only, after the reader made it.
    let handOff = UncheckedBox(input)
    let thread = Thread {
        let parser = XMLParser(stream: handOff.value)
        parser.shouldResolveExternalEntities = false
        let delegate = makeDelegate()
        parser.delegate = delegate
        let ok = parser.parse()
        finish(parser, ok, delegate, handOff.value)
    }
    thread.name = name
    thread.start()
}
