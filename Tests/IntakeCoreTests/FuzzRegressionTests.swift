import Foundation
import Testing
@testable import IntakeCore

/// Inputs found by the fuzzer (Fuzz/run) that crashed a reader: each must now be read or refused.
@Suite struct FuzzRegressionTests {
    static let inputs: [(String, String)] = [
        ("xml-text", "PD94bWz/dmVyc2lvbj0iMS4wIj8+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACjxwZW9wbGUgeG1sbnM6aD0idXJuOmgiPgogPHAgaDpsYXN0PSJOZyIgam9iPSJSZWFkZXIiLz4KIDxwIGxhc3Q9IlJvZSI+PGlnbm9yZWQgbGFzdD0ieCIvPjwvcD4KPC9wZW9wbGU+Cg=="),
        ("xml-attributes", "PD94bWwgdmVyc2mZkTw/eG1sIHZlcnNpb249IjEuMCIgZW5jb2Rpbmc9IlVURi04Ij8+CjxwZW9wbGU+CiA8cGVy/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+c289IjFuPjxs"),
        ("xlsx-sheet", "PD94bWwgdmVyc2lvbj0iMS4wIj8+PHdvcmtzaGVldD48c2hlZXREYXRhPjxyb3cgcj0iMSI+PGMgcj0iQTEiIHQ9InMiPjx2PjA8L3Y+PC9jPjxjIHI9IkIxIiB0PXI9IkEyIiBzHSIxIj48dj40MzE0MS41PC92aXM+PC9jPjwvcm93Pjxyb3cgcj0iMiI+PGMgcj0iQTIiIHMdIjEiPjx2PjQzMTQxLjU8L3Y+PC9jPjxjIHI9IkIyIiB0PSJiIj48dj4xPC92PjwvYz48L3Jvdz48L3NoZWV0RGF0YT48x3dvcmtzaGVldD4K"),
        ("xlsx-shared-strings", "PD94bWwgdmVyc2lvbj0iMS4wIj8+PHPCdD5SaWNoIDwvdD48L3I+PHKJPHQ+dGV4dDxpPjxzaT48csLCdD5SaWNoIDwvdD48L3I+PHKJc2k+PC9zc3Q+Cg==")
    ]

    @Test func xmlInputsFoundByTheFuzzer() throws {
        for (target, base64) in Self.inputs {
            let bytes = Array(Data(base64Encoded: base64)!)
            switch target {
            case "xml-text":
                var reader = XMLRecordReader(fileName: "f", source: MemoryByteSource(bytes), fields: .textOfChildren, singleRecord: false)
                do { while try reader.next() != nil {} } catch {}
            case "xml-attributes":
                var reader = XMLRecordReader(fileName: "f", source: MemoryByteSource(bytes), fields: .attributes, singleRecord: false)
                do { while try reader.next() != nil {} } catch {}
            case "xlsx-sheet":
                var reader = XLSXSheetReader(fileName: "f", source: MemoryByteSource(bytes), sharedStrings: SharedStrings(["a", "b"]), dateStyles: [1])
                do { while try reader.next() != nil {} } catch {}
            default:
                _ = try? XLSXParts.sharedStrings(fileName: "f", source: MemoryByteSource(bytes))
            }
        }
    }
}
