import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The parts of an `.xlsx` workbook the `xlsx` reader needs besides the sheet itself, parsed from
/// their XML. The zip container is opened elsewhere (IntakeRunner), so this stays free of file I/O.
package enum XLSXParts {
    /// The shared string table: `<si>` items, rich-text runs joined. Streamed from `source` (the part
    /// decompressed to a file), refusing entity declarations like the XML readers.
    package static func sharedStrings(
        fileName: String, source: any ByteSource,
        overflow: (any SharedStringsOverflow)? = nil,
        maxStringBytes: Int = RecordSizeLimit.defaultBytes
    ) throws(ReaderError) -> SharedStrings {
        let input = GuardedInputStream(source)
        let parser = XMLParser(stream: input)
        parser.shouldResolveExternalEntities = false
        let delegate = SharedStringsDelegate(strings: SharedStrings(overflow: overflow), maxStringBytes: maxStringBytes)
        parser.delegate = delegate
        let ok = parser.parse()
        if delegate.oversized {
            throw ReaderError(
                "File \(fileName): a shared string of the workbook is longer than \(maxStringBytes) bytes, the limit for one cell (set maxRecordBytes in the file's specification to allow more)"
            )
        }
        if let refusal = input.refusal { throw ReaderError("File \(fileName): \(refusal)") }
        if let error = delegate.error { throw ReaderError("File \(fileName): cannot keep the shared strings: \(error)") }
        guard ok else { throw ReaderError("File \(fileName): the shared strings of the workbook are not well-formed XML") }
        do {
            try delegate.strings.finishAppending()
        } catch {
            throw ReaderError("File \(fileName): cannot keep the shared strings: \(error)")
        }
        return delegate.strings
    }

    /// Refuses a small workbook part that declares entities: no workbook needs them, and they are how
    /// XML entity attacks start.
    /// Also refuses what Foundation's XMLParser cannot read without crashing the process (see
    /// `UTF8StreamValidator` and `EmptyProcessingInstructionScanner`): the small parts are parsed
    /// from memory, not through `GuardedInputStream`.
    package static func checkNoEntities(_ xml: Data, fileName: String, part: String) throws(ReaderError) {
        if xml.range(of: Data("<!ENTITY".utf8)) != nil || xml.range(of: Data("<!DOCTYPE".utf8)) != nil {
            throw ReaderError("File \(fileName): \(part) has a DOCTYPE or entity declaration, which is refused")
        }
        var encoding = UTF8StreamValidator()
        var instructions = EmptyProcessingInstructionScanner()
        let parsable = xml.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            return encoding.accept(bytes) && encoding.isComplete && instructions.accept(bytes)
        }
        if !parsable {
            throw ReaderError("File \(fileName): \(part) is not valid UTF-8 or has a processing instruction without data, which is refused")
        }
    }

    /// Indices into `cellXfs` whose number format shows a date or time.
    package static func dateStyles(_ xml: Data) -> Set<Int> {
        let parser = XMLParser(data: xml)
        let delegate = StylesDelegate()
        parser.delegate = delegate
        _ = parser.parse()
        var result: Set<Int> = []
        for (index, format) in delegate.cellFormats.enumerated() {
            if (14...22).contains(format) || (45...47).contains(format) {
                result.insert(index)
            } else if let code = delegate.customFormats[format], isDateFormat(code) {
                result.insert(index)
            }
        }
        return result
    }

    /// A custom number format is a date when, outside quoted text and [colour] brackets, it uses
    /// d, m, y, h or s.
    static func isDateFormat(_ code: String) -> Bool {
        var quoted = false
        var bracket = false
        for c in code.lowercased() {
            switch c {
            case "\"": quoted.toggle()
            case "[": bracket = true
            case "]": bracket = false
            case "d", "m", "y", "h", "s": if !quoted && !bracket { return true }
            default: break
            }
        }
        return false
    }

    /// The zip path of the sheet named `sheetName`, or of the first sheet.
    package static func sheetPath(workbook: Data, relationships: Data, sheetName: String?) -> String? {
        let sheets = AttributeCollector(element: "sheet")
        let workbookParser = XMLParser(data: workbook)
        workbookParser.delegate = sheets
        _ = workbookParser.parse()
        let chosen = sheetName.map { name in sheets.items.first { $0["name"] == name } } ?? sheets.items.first
        guard let sheet = chosen, let relationID = sheet["r:id"] ?? sheet.first(where: { $0.key.hasSuffix(":id") })?.value else {
            return nil
        }
        let rels = AttributeCollector(element: "Relationship")
        let relsParser = XMLParser(data: relationships)
        relsParser.delegate = rels
        _ = relsParser.parse()
        guard let target = rels.items.first(where: { $0["Id"] == relationID })?["Target"] else { return nil }
        return target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
    }

    package static func sheetNames(workbook: Data) -> [String] {
        let sheets = AttributeCollector(element: "sheet")
        let parser = XMLParser(data: workbook)
        parser.delegate = sheets
        _ = parser.parse()
        return sheets.items.compactMap { $0["name"] }
    }
}

private final class AttributeCollector: NSObject, XMLParserDelegate {
    let element: String
    var items: [[String: String]] = []

    init(element: String) { self.element = element }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        if elementName == element || elementName.hasSuffix(":" + element) { items.append(attributes) }
    }
}

/// Where a shared string table keeps the strings past its memory budget (a temporary file in
/// IntakeRunner). Strings are appended in order, then read by their position among the overflow.
package protocol SharedStringsOverflow: AnyObject {
    func append(_ utf8: [UInt8]) throws
    /// Called once, after the last `append`.
    func finishAppending() throws
    func string(at index: Int) -> String?
}

/// A workbook's shared string table, kept compactly: the UTF-8 of every string in one buffer and
/// where each ends, so a million short strings cost their text plus 4 bytes each, not a String
/// object each. Past `memoryBudget` bytes of text the rest goes to `overflow`, so memory stays
/// bounded however large the workbook.
package struct SharedStrings {
    private var text: [UInt8] = []
    private var ends: [UInt32] = []
    private var overflow: (any SharedStringsOverflow)?
    private var overflowCount = 0
    private let memoryBudget: Int

    package static let defaultMemoryBudget = 16 << 20

    package init(overflow: (any SharedStringsOverflow)? = nil, memoryBudget: Int = SharedStrings.defaultMemoryBudget) {
        self.overflow = overflow
        self.memoryBudget = memoryBudget
    }

    package init(_ strings: [String]) {
        self.init()
        for s in strings { try? append(s) }
    }

    package var count: Int { ends.count + overflowCount }

    mutating func append(_ string: String) throws {
        if let overflow, overflowCount > 0 || text.count + string.utf8.count + 4 * ends.count > memoryBudget {
            try overflow.append(Array(string.utf8))
            overflowCount += 1
            return
        }
        // Room for the whole budget at once: growing by doubling would copy the table and, for a
        // moment, hold it twice.
        if text.capacity == 0 && overflow != nil { text.reserveCapacity(memoryBudget) }
        text.append(contentsOf: string.utf8)
        ends.append(UInt32(truncatingIfNeeded: text.count))
    }

    mutating func finishAppending() throws {
        if overflowCount > 0 { try overflow?.finishAppending() }
    }

    package subscript(index: Int) -> String? {
        guard index >= 0, index < count else { return nil }
        guard index < ends.count else { return overflow?.string(at: index - ends.count) }
        let start = index == 0 ? 0 : Int(ends[index - 1])
        return String(decoding: text[start..<Int(ends[index])], as: UTF8.self)
    }
}

private final class SharedStringsDelegate: NSObject, XMLParserDelegate {
    var strings: SharedStrings
    var error: (any Error)?
    let maxStringBytes: Int
    private(set) var oversized = false

    init(strings: SharedStrings, maxStringBytes: Int) {
        self.strings = strings
        self.maxStringBytes = maxStringBytes
    }

    private var current = ""
    private var inItem = false
    private var inText = false
    private var phoneticDepth = 0

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        switch elementName {
        case "si": inItem = true; current = ""
        case "rPh": phoneticDepth += 1  // phonetic hints are not part of the text
        case "t": inText = inItem && phoneticDepth == 0
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        switch elementName {
        case "si":
            inItem = false
            do {
                try strings.append(current)
            } catch {
                self.error = error
                parser.abortParsing()
            }
        case "rPh": phoneticDepth -= 1
        case "t": inText = false
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard inText, !oversized else { return }
        current += string
        if current.utf8.count > maxStringBytes {
            oversized = true
            parser.abortParsing()
        }
    }
}

private final class StylesDelegate: NSObject, XMLParserDelegate {
    var customFormats: [Int: String] = [:]
    var cellFormats: [Int] = []
    private var inCellXfs = false

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        switch elementName {
        case "numFmt":
            if let id = attributes["numFmtId"].flatMap(Int.init), let code = attributes["formatCode"] { customFormats[id] = code }
        case "cellXfs": inCellXfs = true
        case "xf": if inCellXfs { cellFormats.append(attributes["numFmtId"].flatMap(Int.init) ?? 0) }
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        if elementName == "cellXfs" { inCellXfs = false }
    }
}

/// Reads one worksheet's XML as records: the first row names the columns, every later row with any
/// value is a record. Cells become text: shared and inline strings as they are, booleans as
/// `true`/`false`, numbers as written, and numbers in a date format as `yyyy-MM-dd` (with
/// ` HH:mm:ss` when there is a time). Streams like the XML readers.
package final class XLSXSheetReader: PipedRecordReader {
    let pipe: RecordPipe
    let input: GuardedInputStream

    package init(
        fileName: String, source: any ByteSource, sharedStrings: SharedStrings, dateStyles: Set<Int>,
        maxCellBytes: Int = RecordSizeLimit.defaultBytes
    ) {
        let pipe = RecordPipe()
        let input = GuardedInputStream(source)
        self.pipe = pipe
        self.input = input
        // The table (and its overflow file, which has a read position) goes to the parser thread,
        // which alone reads it from then on.
        let strings = UncheckedBox(sharedStrings)
        parseOnOwnThread(
            name: "intake-xlsx-reader", input: input,
            makeDelegate: {
                SheetBuilder(
                    pipe: pipe, sharedStrings: strings.value, dateStyles: dateStyles,
                    maxRowBytes: maxCellBytes)
            }
        ) { parser, ok, builder, _ in
            if let line = builder.oversizedRowLine {
                pipe.fail(RecordSizeLimit.exceeded(fileName: fileName, line: line, limit: maxCellBytes))
            } else if ok || pipe.isCancelled {
                pipe.finish()
            } else {
                pipe.fail(
                    ReaderError(
                        "The worksheet of \(fileName) is not well-formed XML (line \(parser.lineNumber))",
                        line: parser.lineNumber))
            }
        }
    }

    deinit { pipe.cancel() }

    /// The column number of a cell reference: `A1` → 0, `AB7` → 27. Excel stops at three letters
    /// (XFD); a reference with more than six is not a column (and would overflow: found by fuzzing).
    static func column(_ reference: String) -> Int? {
        var n = 0
        var letters = 0
        for b in reference.utf8 {
            let upper = b & 0xDF
            guard upper >= UInt8(ascii: "A") && upper <= UInt8(ascii: "Z") else { break }
            letters += 1
            if letters > 6 { return nil }
            n = n * 26 + Int(upper - UInt8(ascii: "A") + 1)
        }
        return letters == 0 ? nil : n - 1
    }

    /// Excel's serial date (days since 1899-12-30) as text.
    static func dateText(_ serial: Double) -> String {
        let totalSeconds = Int64((serial * 86400).rounded())
        let seconds = totalSeconds - Int64(25569) * 86400  // 1899-12-30 → 1970-01-01
        let date = CivilTime.isoDate(seconds: seconds)
        let time = ((totalSeconds % 86400) + 86400) % 86400
        if time == 0 { return date }
        return date + " " + CivilTime.pad(Int(time / 3600), 2) + ":" + CivilTime.pad(Int(time / 60 % 60), 2) + ":"
            + CivilTime.pad(Int(time % 60), 2)
    }
}

private final class SheetBuilder: NSObject, XMLParserDelegate {
    private let pipe: RecordPipe
    private let sharedStrings: SharedStrings
    private let dateStyles: Set<Int>
    private var names: [Int: String]?
    private var row: [(Int, String)] = []
    private var rowLine = 0
    private var cellColumn = 0
    private var nextColumn = 0
    private var cellType = ""
    private var cellStyle = 0
    private var text = ""
    private var collecting = false
    private let maxRowBytes: Int
    private var rowBytes = 0
    /// Set when a row's text grew past `maxRowBytes`; parsing was aborted there.
    private(set) var oversizedRowLine: Int?

    init(pipe: RecordPipe, sharedStrings: SharedStrings, dateStyles: Set<Int>, maxRowBytes: Int) {
        self.pipe = pipe
        self.sharedStrings = sharedStrings
        self.dateStyles = dateStyles
        self.maxRowBytes = maxRowBytes
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        switch elementName {
        case "row":
            row = []
            rowBytes = 0
            rowLine = parser.lineNumber
            nextColumn = 0
        case "c":
            cellColumn = attributes["r"].flatMap(XLSXSheetReader.column) ?? nextColumn
            nextColumn = cellColumn + 1
            cellType = attributes["t"] ?? "n"
            cellStyle = attributes["s"].flatMap(Int.init) ?? 0
            text = ""
        case "v", "t":
            collecting = true
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard collecting, oversizedRowLine == nil else { return }
        rowBytes += string.utf8.count
        if rowBytes > maxRowBytes {
            oversizedRowLine = rowLine
            parser.abortParsing()
            return
        }
        text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        switch elementName {
        case "v", "t":
            collecting = false
        case "c":
            if let value = cellValue(), !value.isEmpty { row.append((cellColumn, value)) }
        case "row":
            if names == nil {
                names = Dictionary(row, uniquingKeysWith: { _, last in last })
            } else if !row.isEmpty {
                var record = JSONObject()
                for (column, value) in row {
                    if let name = names?[column] { record[name] = .string(value) }
                }
                if !pipe.put(SourceRecord(value: .object(record), line: rowLine)) { parser.abortParsing() }
            }
        default:
            break
        }
    }

    private func cellValue() -> String? {
        switch cellType {
        case "s":
            return Int(text).flatMap { sharedStrings[$0] }
        case "b":
            return text == "1" ? "true" : "false"
        case "inlineStr", "str", "e":
            return text
        default:
            // Excel's dates end at 9999-12-31 (serial 2958465); a bigger number stays a number
            // (converting it overflowed: found by fuzzing).
            if dateStyles.contains(cellStyle), let serial = Double(text), serial >= 0, serial < 2_958_466 {
                return XLSXSheetReader.dateText(serial)
            }
            return text
        }
    }
}
