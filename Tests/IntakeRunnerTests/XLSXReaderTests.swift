import Foundation
import Testing
import ZIPFoundation

@testable import IntakeCore
@testable import IntakeRunner

/// Workbooks are built here with ZIPFoundation from minimal SpreadsheetML parts, as Excel writes them.
@Suite struct XLSXReaderTests {
    static func workbook(
        sheets: [(String, String)], sharedStrings: [String], styles: String? = nil,
        sharedStringsPrologue: String = ""
    ) throws -> URL {
        let url = FileManager().temporaryDirectory.appendingPathComponent("book-\(UUID().uuidString).xlsx")
        let archive = try Archive(url: url, accessMode: .create)
        func add(_ path: String, _ text: String) throws {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        let sheetList = sheets.enumerated().map { i, sheet in
            #"<sheet name="\#(sheet.0)" sheetId="\#(i + 1)" r:id="rId\#(i + 1)"/>"#
        }.joined()
        try add(
            "xl/workbook.xml",
            #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>\#(sheetList)</sheets></workbook>"#
        )
        let rels = sheets.indices.map { i in
            #"<Relationship Id="rId\#(i + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet\#(i + 1).xml"/>"#
        }.joined()
        try add(
            "xl/_rels/workbook.xml.rels",
            #"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\#(rels)</Relationships>"#)
        let items = sharedStrings.map { "<si><t>\($0)</t></si>" }.joined()
        try add(
            "xl/sharedStrings.xml",
            #"<?xml version="1.0"?>\#(sharedStringsPrologue)<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="\#(sharedStrings.count)">\#(items)<si><r><t>Rich </t></r><r><t>text</t></r></si></sst>"#
        )
        if let styles { try add("xl/styles.xml", styles) }
        for (i, sheet) in sheets.enumerated() {
            try add(
                "xl/worksheets/sheet\(i + 1).xml",
                #"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>\#(sheet.1)</sheetData></worksheet>"#
            )
        }
        return url
    }

    static let styles = #"""
        <?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
        <numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy\ hh:mm"/></numFmts>
        <cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>
        """#

    private func records(_ url: URL, sheet: String? = nil) throws -> [String] {
        var reader = try XLSXReader.open(fileName: "book", path: url.path, sheet: sheet)
        var out: [String] = []
        while let r = try reader.next() { out.append(r.value.compactJSON) }
        return out
    }

    @Test func firstRowNamesColumnsAndCellsBecomeText() throws {
        let rows = #"""
            <row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="inlineStr"><is><t>Active</t></is></c></row>
            <row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" s="1"><v>43141</v></c><c r="C2"><v>42.5</v></c><c r="D2" t="b"><v>1</v></c></row>
            <row r="3"><c r="A3" t="s"><v>4</v></c><c r="C3" s="2"><v>43141.5</v></c></row>
            <row r="4"></row>
            <row r="5"><c r="B5" t="s"><v>5</v></c></row>
            """#
        let url = try Self.workbook(sheets: [("People", rows)], sharedStrings: ["Name", "Start", "Score", "Zoë Łukasz 東京", "Ann"], styles: Self.styles)
        #expect(
            try records(url) == [
                #"{"Name":"Zoë Łukasz 東京","Start":"2018-02-10","Score":"42.5","Active":"true"}"#,
                #"{"Name":"Ann","Score":"2018-02-10 12:00:00"}"#,
                #"{"Start":"Rich text"}"#
            ])
    }

    @Test func sheetOptionPicksASheetByName() throws {
        let url = try Self.workbook(
            sheets: [
                ("One", #"<row><c t="s"><v>0</v></c></row><row><c t="s"><v>1</v></c></row>"#),
                ("Two", #"<row><c t="s"><v>0</v></c></row><row><c t="s"><v>2</v></c></row>"#)
            ],
            sharedStrings: ["A", "first", "second"])
        #expect(try records(url) == [#"{"A":"first"}"#])
        #expect(try records(url, sheet: "Two") == [#"{"A":"second"}"#])
        #expect(throws: ReaderError("File book has no sheet named Three (sheets: One, Two)")) { try records(url, sheet: "Three") }
    }

    @Test func sharedStringsWithEntityDeclarationsAreRefused() throws {
        let secret = FileManager().temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString).txt")
        try "top secret".write(to: secret, atomically: true, encoding: .utf8)
        let rows = #"<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>"#
        let external = try Self.workbook(
            sheets: [("S", rows)], sharedStrings: ["Name", "&xxe;"],
            sharedStringsPrologue: #"<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file://\#(secret.path)">]>"#)
        #expect(throws: ReaderError.self) { _ = try records(external) }
        let laughs = try Self.workbook(
            sheets: [("S", rows)], sharedStrings: ["Name", "&lol3;"],
            sharedStringsPrologue: """
                <!DOCTYPE sst [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\
                <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
                """)
        do {
            _ = try records(laughs)
            Issue.record("entity declarations were accepted")
        } catch let error as ReaderError {
            #expect(error.message.contains("book"))
            #expect(error.message.contains("entit") || error.message.contains("DOCTYPE"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func sharedStringsAreStoredCompactly() {
        let table = SharedStrings(["", "a", "Zoë Łukasz 東京", "", "last"])
        #expect(table.count == 5)
        #expect((0..<5).map { table[$0] } == ["", "a", "Zoë Łukasz 東京", "", "last"])
        #expect(table[5] == nil)
        #expect(table[-1] == nil)
    }

    @Test func sharedStringsPastTheBudgetGoToATemporaryFile() throws {
        var words = (0..<5000).map { i in i % 7 == 0 ? "" : "string \(i) Łódź 東京 \(String(repeating: "x", count: i % 50))" }
        words[4000] = String(repeating: "longer than the read window ", count: 60_000)
        var table = SharedStrings(overflow: try FileSharedStringsOverflow(), memoryBudget: 4096)
        for w in words { try table.append(w) }
        try table.finishAppending()
        #expect(table.count == words.count)
        for i in [0, 1, 7, 40, 41, 500, 4999, 3999, 4000, 4001, 2] + Array(stride(from: 0, to: 5000, by: 37)) + Array(0..<5000) {
            #expect(table[i] == words[i])
        }
        #expect(table[5000] == nil)
    }

    @Test func notAWorkbook() throws {
        let url = FileManager().temporaryDirectory.appendingPathComponent("not-\(UUID().uuidString).xlsx")
        try Data("hello".utf8).write(to: url)
        #expect(throws: ReaderError("File book is not an xlsx workbook (not a zip archive)")) { try records(url) }
    }

    @Test func columnsAndDates() {
        #expect(XLSXSheetReader.column("A1") == 0)
        #expect(XLSXSheetReader.column("AB7") == 27)
        #expect(XLSXSheetReader.dateText(43141) == "2018-02-10")
        #expect(XLSXParts.isDateFormat("[Red]0.00") == false)
        #expect(XLSXParts.isDateFormat("yyyy-mm-dd"))
        #expect(XLSXParts.isDateFormat(#"0.0" days""#) == false)
    }
}
