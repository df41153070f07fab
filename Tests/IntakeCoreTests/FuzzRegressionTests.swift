import Foundation
import Testing

@testable import IntakeCore

/// Inputs found by the fuzzer (Fuzz/run) that crashed a reader: each must now be read or refused.
@Suite struct FuzzRegressionTests {
    static let inputs: [(String, String)] = [
        (
            "xml-text",
            "PD94bWz/dmVyc2lvbj0iMS4wIj8+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACjxwZW9wbGUgeG1sbnM6aD0idXJuOmgiPgogPHAgaDpsYXN0PSJOZyIgam9iPSJSZWFkZXIiLz4KIDxwIGxhc3Q9IlJvZSI+PGlnbm9yZWQgbGFzdD0ieCIvPjwvcD4KPC9wZW9wbGU+Cg=="
        ),
        (
            "xml-attributes",
            "PD94bWwgdmVyc2mZkTw/eG1sIHZlcnNpb249IjEuMCIgZW5jb2Rpbmc9IlVURi04Ij8+CjxwZW9wbGU+CiA8cGVy/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+c289IjFuPjxs"
        ),
        (
            "xlsx-sheet",
            "PD94bWwgdmVyc2lvbj0iMS4wIj8+PHdvcmtzaGVldD48c2hlZXREYXRhPjxyb3cgcj0iMSI+PGMgcj0iQTEiIHQ9InMiPjx2PjA8L3Y+PC9jPjxjIHI9IkIxIiB0PXI9IkEyIiBzHSIxIj48dj40MzE0MS41PC92aXM+PC9jPjwvcm93Pjxyb3cgcj0iMiI+PGMgcj0iQTIiIHMdIjEiPjx2PjQzMTQxLjU8L3Y+PC9jPjxjIHI9IkIyIiB0PSJiIj48dj4xPC92PjwvYz48L3Jvdz48L3NoZWV0RGF0YT48x3dvcmtzaGVldD4K"
        ),
        ("xlsx-shared-strings", "PD94bWwgdmVyc2lvbj0iMS4wIj8+PHPCdD5SaWNoIDwvdD48L3I+PHKJPHQ+dGV4dDxpPjxzaT48csLCdD5SaWNoIDwvdD48L3I+PHKJc2k+PC9zc3Q+Cg=="),
        (
            "xml-text",
            "PD94bWwgdmVyc2lvbj0iMS4wIiBlbjw/eG1sIHZlcnNpb249IjEuMCIgZW5jb2Rpbmc9Iv////////8HVVRGLTgiPz4KPHBlb3BsZT5kZXIgZXJzb24+PGxhc3T/////////////PsURdWthc3o8L2M="
        ),
        (
            "xml-attributes",
            "PD94bWwgdmVzaW9uPSIxLjAiIGVuY29kaW5nPSJVVEYtZXNpb249IjEuMCIgZW5jb2Rpbmc9w8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDwzLDw4/Dw8PDw8PDw8PDw8PDw8PDw8PDwyJVVEYtOCI/Pgo8cGVvcGxlw8PDw8PDw8PDw8PDw8PDw8PDw8PDIGxhc3QKPC9wZW9wbGU+Cg=="
        ),
        (
            "xlsx-sheet",
            "PD94Pz48d29ya3NoMGV0PjxzaG1sIHZlcnNpb2k9IjEuMCI/Pjx3b3Jrc2gwZXQ+PHNoZWVURGF0YT48cm93IHI9IjIiPjxjICw9MUEiIiB0PSJvTT4iPjxsIHZlcgJzaW9uPSIxLjAiPz48d29ya3NoMGV0PjxzaGVlVERhdGE+PHJvPjA8L3Y+PC9jPjxjIj48YyByPSJBMyIgcz0iMSI+PHY8YyByPSJBMmIgcz0iMSI+PHY0PjMxNDIuNTwvdj48L2M+PGMgcj0iQjIiIC93b3JrcmtzaGVldD4K"
        ),
        ("xlsx-shared-strings", "PD94bWwgdmVyc2knb249IjEuMCI/Pjxzc/QgY291bj48dD5SaWNoIDwvdD48Lz48L3JQeDwvdD48UGg+PC9zPgo="),
        ("xml-text", "PD94bWxlc3IgZW5jb2Rpbmc9aXNvODg1OThlLTgiPz4KPHBl0dHR0dHR0dHR0dHRb3A/LSI+ZXJvY3M+bm8iPsWB"),
        (
            "xml-attributes",
            "PD94bWz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/CB2ZSIgZW5jb0RpbmdVVEYtMTYvPiIvPi8+Ii8+PCI/Pg=="
        ),
        (
            "xlsx-sheet",
            "PD94bWwgdmVyc2lvbj0iMS4wIj8+PHdvcmtzaGVldD48c2hlZXREYXRhPjxyb3cgcj0iMSI+PGMgcj0iQTEiIHQ9PjwvaXM+PC9jPjwvcm9/Pjxyb3cgcj0iMiI+PGMgcj0iWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlBMyIgcz0iMSI+PHY+NDMxNDEuNTwvdj48L2M+PGMgcj0iQjIiIHQ9ImIiPjx2PjE8L3Y+PC9jPjwvcm93PjI8L3Y+PC9EYXRhPjwvd29ya3NoZWV0Pgo="
        ),
        (
            "xlsx-shared-strings",
            "PD94bWwgdmVyc2lvbj0iMS4wIj8+PHNzwSBjb3VudD0iMiI+PHM8Pk50PmFpbWU8L3Q+PC9zYD48c2k+PHI+PHQ+UmljaCA8L/Q+PC9yPjxyPjw8dD50ZXh0PC90Pjwvcj48clBoPjx0Png8L3Q+PC9yUGg+PC9zaT48L3NzdD4="
        ),
        (
            "xml-text",
            "PD94bWwgdmVyc2lvbj0iMS4wIiBlbmNvPC9sYXN0Pjxqb2I+IFJlYWRlciA8P2pvYj8+PC9wZXJzb24+CiA8cGVyc29uPjxwL2xhc3Q+PGpvYj4gUmVhZGVyIDw/am9iPjwvcGVyc29uPgogPAAAAAAAAAAAcGVyc29uPjxwZXJzb24+CjwvcGVvcGxlPgo="
        ),
        ("xml-attributes", "PD94PD94bWwgMD8+CjxDdTp2bjw/W1tbLnA8P3hvPz4="),
        (
            "xlsx-sheet",
            "PD94bWwgdmVyc2lvQm9vbG49IjEuIHI9Yz48YyBhdGE+ZXJzaW9Cb29sbj0iMS4gcj1jPjxjIGF0YT48cm93IHI9IjEiPjxjIHI9IkExIiB0PSJzIj48dj4yMjIyMjIyMjIyMjIyMjIyMDwvdj48b3c+PHJvdyByPSIyIj48YyByPSJBMiIgcz0iMSI+PHYxLjQxMzQ+NTwvIiB0PSJzIj48dj4yMjIyMjIyMjIyMjIyMjIyMDwvdj48L1N1YnMgdj4xPC92PjwvYz48YyByPXY+NDIxNDIuNTwvPGMgdj4wPGM+PA=="
        ),
        ("xlsx-shared-strings", "PD88P3h4ZXM/Pg==")
    ]

    @Test func xmlInputsFoundByTheFuzzer() throws {
        for (target, base64) in Self.inputs {
            let bytes = Array(Data(base64Encoded: base64)!)
            switch target {
            case "xml-text":
                let reader = XMLRecordReader(fileName: "f", source: MemoryByteSource(bytes), fields: .textOfChildren, singleRecord: false)
                do { while try reader.next() != nil {} } catch {}
            case "xml-attributes":
                let reader = XMLRecordReader(fileName: "f", source: MemoryByteSource(bytes), fields: .attributes, singleRecord: false)
                do { while try reader.next() != nil {} } catch {}
            case "xlsx-sheet":
                let reader = XLSXSheetReader(fileName: "f", source: MemoryByteSource(bytes), sharedStrings: SharedStrings(["a", "b"]), dateStyles: [1])
                do { while try reader.next() != nil {} } catch {}
            default:
                _ = try? XLSXParts.sharedStrings(fileName: "f", source: MemoryByteSource(bytes))
            }
        }
    }

    @Test func processingInstructionsWithoutDataAreRefused() throws {
        for xml in ["<?xml version=\"1.0\"?><r><?x?><row><a>1</a></row></r>", "<r><row><a>1<?x ?></a></row></r>"] {
            let reader = XMLRecordReader(fileName: "f", source: MemoryByteSource(xml), fields: .textOfChildren, singleRecord: false)
            #expect(throws: ReaderError("XML file f refused: it has a processing instruction without data (<?name?>), which the XML parser cannot read safely"))
            {
                while try reader.next() != nil {}
            }
        }
        let fine = XMLRecordReader(
            fileName: "f", source: MemoryByteSource("<r><?pi some data?><row><a>1</a></row></r>"), fields: .textOfChildren, singleRecord: false)
        #expect(try fine.next()?.value.compactJSON == #"{"a":"1"}"#)
    }
}

extension FuzzRegressionTests {
    @Test func columnReferencesCannotOverflow() {
        #expect(XLSXSheetReader.column("AB7") == 27)
        #expect(XLSXSheetReader.column("XFD1") == 16383)
        #expect(XLSXSheetReader.column(String(repeating: "Y", count: 40) + "A3") == nil)
    }

    @Test func declaredEncodingsAreTrustedOnlyWhenWellFormed() {
        func readsAsUTF8(_ text: String) -> Bool {
            Array(text.utf8).withUnsafeBufferPointer { UTF8StreamValidator.readsAsUTF8($0) }
        }
        #expect(!readsAsUTF8(#"<?xml version="1.0" encoding="ISO-8859-1"?><r/>"#))
        #expect(!readsAsUTF8(#"<?xml version='1.0' encoding='windows-1252' standalone='yes'?><r/>"#))
        #expect(readsAsUTF8(#"<?xml version="1.0" encoding="UTF-8"?><r/>"#))
        #expect(readsAsUTF8(#"<?xml version="1.0" encoding="UTF-16"?><r/>"#))  // 8-bit bytes: read as such
        #expect(readsAsUTF8(#"<?xml version="1.0" encoding="iso88598e-8"?><r/>"#))
        #expect(readsAsUTF8("<?xml\u{FC} encoding=\"ISO-8859-1\"?><r/>"))
        #expect(readsAsUTF8("<r/>"))
    }
}

extension FuzzRegressionTests {
    @Test func smallWorkbookPartsAreCheckedBeforeTheyAreParsed() {
        let bad = Data("<?xml version=\"1.0\"?><styleSheet><cellXfs><xf\u{FF}/></cellXfs></styleSheet>".utf8.map { $0 == 0xC3 ? 0xFF : $0 })
        #expect(throws: ReaderError.self) { try XLSXParts.checkNoEntities(bad, fileName: "f", part: "xl/styles.xml") }
        #expect(throws: ReaderError.self) {
            try XLSXParts.checkNoEntities(Data("<styleSheet><?x?></styleSheet>".utf8), fileName: "f", part: "xl/styles.xml")
        }
        #expect(throws: Never.self) { try XLSXParts.checkNoEntities(Data("<styleSheet/>".utf8), fileName: "f", part: "xl/styles.xml") }
    }
}

extension FuzzRegressionTests {
    @Test func dateSerialsOutsideExcelsRangeStayNumbers() throws {
        let sheet =
            #"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>D</t></is></c></row><row r="2"><c r="A2" s="1"><v>22222222222222220</v></c></row><row r="3"><c r="A3" s="1"><v>43141</v></c></row></sheetData></worksheet>"#
        let reader = XLSXSheetReader(fileName: "f", source: MemoryByteSource(sheet), sharedStrings: SharedStrings([]), dateStyles: [1])
        #expect(try reader.next()?.value.compactJSON == #"{"D":"22222222222222220"}"#)
        #expect(try reader.next()?.value.compactJSON == #"{"D":"2018-02-10"}"#)
    }

    @Test func anInstructionInsideABrokenOneIsStillFound() throws {
        let reader = XMLRecordReader(
            fileName: "f", source: MemoryByteSource("<?xml version=\"1.0\" enco</a><r><?job?></r>"), fields: .textOfChildren, singleRecord: false)
        #expect(throws: ReaderError.self) { while try reader.next() != nil {} }
    }
}
