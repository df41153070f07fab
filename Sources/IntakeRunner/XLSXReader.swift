import Foundation
import IntakeCore
import ZIPFoundation

/// The `xlsx` reader (extension): the first worksheet, or the one named by the `sheet` option, of an
/// Excel workbook. The small parts (workbook, relationships, styles, shared strings) are read from
/// the zip; the worksheet is decompressed to a temporary file in chunks and streamed from there, so
/// memory does not grow with the number of rows.
public enum XLSXReader {
    public static let descriptor = ReaderDescriptor(name: "xlsx") { fileName, path, spec throws(ReaderError) in
        try open(fileName: fileName, path: path, sheet: spec["sheet"].flatMap { $0.isMissing ? nil : $0.jsForm })
    }

    static func open(fileName: String, path: String, sheet: String?) throws(ReaderError) -> any RecordReader {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ReaderError("File \(fileName) is not an xlsx workbook (not a zip archive)")
        }
        func part(_ name: String) throws(ReaderError) -> Data? {
            guard let entry = archive[name] else { return nil }
            var data = Data()
            do {
                _ = try archive.extract(entry, skipCRC32: false) { data.append($0) }
            } catch {
                throw ReaderError("File \(fileName): cannot read \(name) from the workbook")
            }
            return data
        }
        guard let workbook = try part("xl/workbook.xml"), let relationships = try part("xl/_rels/workbook.xml.rels") else {
            throw ReaderError("File \(fileName) is not an xlsx workbook (no xl/workbook.xml)")
        }
        guard let sheetPath = XLSXParts.sheetPath(workbook: workbook, relationships: relationships, sheetName: sheet),
              let sheetEntry = archive[sheetPath] else {
            if let sheet {
                let names = XLSXParts.sheetNames(workbook: workbook).joined(separator: ", ")
                throw ReaderError("File \(fileName) has no sheet named \(sheet) (sheets: \(names))")
            }
            throw ReaderError("File \(fileName) has no worksheet")
        }
        let sharedStrings = try part("xl/sharedStrings.xml").map(XLSXParts.sharedStrings) ?? []
        let dateStyles = try part("xl/styles.xml").map(XLSXParts.dateStyles) ?? []
        let temporary = FileManager().temporaryDirectory.appendingPathComponent("intake-sheet-\(UUID().uuidString).xml")
        do {
            _ = try archive.extract(sheetEntry, to: temporary)
            let source = try FileByteSource(path: temporary.path)
            // The open descriptor keeps the data readable; the name can go at once.
            try? FileManager().removeItem(at: temporary)
            return XLSXSheetReader(fileName: fileName, source: source, sharedStrings: sharedStrings, dateStyles: dateStyles)
        } catch {
            try? FileManager().removeItem(at: temporary)
            throw ReaderError("File \(fileName): cannot read worksheet \(sheetPath)")
        }
    }
}
