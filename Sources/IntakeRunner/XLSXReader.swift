import Foundation
import IntakeCore
import ZIPFoundation

/// The `xlsx` reader (extension): the first worksheet, or the one named by the `sheet` option, of an
/// Excel workbook. The small parts (workbook, relationships, styles) are read from the zip; the
/// shared strings and the worksheet are decompressed to temporary files in chunks and streamed from
/// there. Memory grows only with the shared string table, kept compactly (`SharedStrings`), not with
/// the number of rows.
package enum XLSXReader {
    package static let descriptor = ReaderDescriptor(name: "xlsx") { fileName, path, spec throws(ReaderError) in
        try open(
            fileName: fileName, path: path, sheet: spec["sheet"].flatMap { $0.isMissing ? nil : $0.jsForm },
            maxCellBytes: try RecordSizeLimit.bytes(spec, fileName: fileName))
    }

    static func open(
        fileName: String, path: String, sheet: String?, limits: XLSXLimits = XLSXLimits(),
        maxCellBytes: Int = RecordSizeLimit.defaultBytes
    ) throws(ReaderError) -> any RecordReader {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ReaderError("File \(fileName) is not an xlsx workbook (not a zip archive)")
        }
        // The small parts are read whole; shared strings and the sheet are streamed from temporary
        // files. Every part inflates under the limits of `XLSXLimits`.
        var inflation = XLSXInflationGuard(archive: archive, fileName: fileName, limits: limits)
        func part(_ name: String) throws(ReaderError) -> Data? {
            guard let entry = archive[name] else { return nil }
            let data = try inflation.small(entry)
            try XLSXParts.checkNoEntities(data, fileName: fileName, part: name)
            return data
        }
        guard let workbook = try part("xl/workbook.xml"), let relationships = try part("xl/_rels/workbook.xml.rels") else {
            throw ReaderError("File \(fileName) is not an xlsx workbook (no xl/workbook.xml)")
        }
        guard let sheetPath = XLSXParts.sheetPath(workbook: workbook, relationships: relationships, sheetName: sheet),
            let sheetEntry = archive[sheetPath]
        else {
            if let sheet {
                let names = XLSXParts.sheetNames(workbook: workbook).joined(separator: ", ")
                throw ReaderError("File \(fileName) has no sheet named \(sheet) (sheets: \(names))")
            }
            throw ReaderError("File \(fileName) has no worksheet")
        }
        var sharedStrings = SharedStrings()
        if let entry = archive["xl/sharedStrings.xml"] {
            let source = try inflation.streamed(entry)
            let overflow: FileSharedStringsOverflow
            do {
                overflow = try FileSharedStringsOverflow()
            } catch {
                throw ReaderError("File \(fileName): cannot create a temporary file for the shared strings")
            }
            sharedStrings = try XLSXParts.sharedStrings(
                fileName: fileName, source: source, overflow: overflow,
                maxStringBytes: maxCellBytes)
        }
        let dateStyles = try part("xl/styles.xml").map(XLSXParts.dateStyles) ?? []
        return XLSXSheetReader(
            fileName: fileName, source: try inflation.streamed(sheetEntry), sharedStrings: sharedStrings,
            dateStyles: dateStyles, maxCellBytes: maxCellBytes)
    }
}
