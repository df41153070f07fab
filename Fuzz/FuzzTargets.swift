// libFuzzer entry point for Intake's parsers. Built by Fuzz/run together with the IntakeCore sources
// and the multipart parser into one binary; FUZZ_TARGET picks what the input is fed to.
import Foundation

private enum FuzzTarget: String {
    case control, json, jsonl, csv, tsv, xmlText = "xml-text", xmlAttributes = "xml-attributes", xlsxSheet = "xlsx-sheet",
        xlsxSharedStrings = "xlsx-shared-strings", multipart
}

private let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(
            Data("FUZZ_TARGET must be one of: control json jsonl csv tsv xml-text xml-attributes xlsx-sheet xlsx-shared-strings multipart\n".utf8))
        exit(2)
    }
    return target
}()

private let vocabulary = ControlFileVocabulary(
    models: ModelRegistry(schema: StandardSchema.make()),
    readers: Set(StandardReaders.all.map(\.name) + ["xlsx"]),
    filters: Set(StandardFilters.all.map(\.name)))

/// Reads every record; errors are the expected outcome for most inputs, crashes are what we look for.
private func drain(_ reader: inout some RecordReader) {
    do {
        while try reader.next() != nil {}
    } catch {}
}

private func spec(_ bytes: [UInt8]) -> JSONObject {
    // The first byte picks a separator for the csv and tsv readers, so the fuzzer explores it too.
    guard let first = bytes.first, first & 0x80 != 0 else { return JSONObject() }
    return JSONObject([("separator", .string(String(UnicodeScalar(first & 0x7F))))])
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case .control:
        if let control = try? JSONParser.parse(bytes) {
            _ = ControlFileValidator(vocabulary: vocabulary).validate(control)
            _ = control.containsNUL
        }
    case .json:
        var reader = JSONRecordReader(fileName: "f", source: MemoryByteSource(bytes), singleRecord: size % 2 == 0)
        drain(&reader)
    case .jsonl:
        var reader = JSONLinesRecordReader(fileName: "f", source: MemoryByteSource(bytes))
        drain(&reader)
    case .csv:
        guard var reader = try? CSVRecordReader(fileName: "f", source: MemoryByteSource(bytes), spec: spec(bytes)) else { return 0 }
        drain(&reader)
    case .tsv:
        guard var reader = try? TSVRecordReader(fileName: "f", source: MemoryByteSource(bytes), spec: spec(bytes)) else { return 0 }
        drain(&reader)
    case .xmlText:
        var reader = XMLRecordReader(fileName: "f", source: MemoryByteSource(bytes), fields: .textOfChildren, singleRecord: size % 2 == 0)
        drain(&reader)
    case .xmlAttributes:
        var reader = XMLRecordReader(fileName: "f", source: MemoryByteSource(bytes), fields: .attributes, singleRecord: size % 2 == 0)
        drain(&reader)
    case .xlsxSheet:
        var reader = XLSXSheetReader(fileName: "f", source: MemoryByteSource(bytes), sharedStrings: SharedStrings(["a", "b"]), dateStyles: [1])
        drain(&reader)
    case .xlsxSharedStrings:
        if let strings = try? XLSXParts.sharedStrings(fileName: "f", source: MemoryByteSource(bytes)) {
            _ = strings[0]
        }
        // As the xlsx reader does with every part it reads whole: checked, then parsed.
        if (try? XLSXParts.checkNoEntities(Data(bytes), fileName: "f", part: "xl/styles.xml")) != nil {
            _ = XLSXParts.dateStyles(Data(bytes))
            _ = XLSXParts.sheetNames(workbook: Data(bytes))
        }
    case .multipart:
        var parser = MultipartStreamParser(boundary: "XyZ")
        parser.onHeader = { _, _ in }
        parser.onBody = { _ in }
        parser.onPartComplete = {}
        // Fed in pieces whose sizes come from the input, so every split of a delimiter is tried.
        var offset = 0
        var step = 1
        while offset < size {
            let end = min(size, offset + step)
            do {
                try bytes[offset..<end].withUnsafeBytes { try parser.execute($0) }
            } catch {
                return 0
            }
            step = Int(bytes[offset]) % 64 + 1
            offset = end
        }
        _ = parser.isComplete
    }
    return 0
}
