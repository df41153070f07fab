import Testing

@testable import IntakeCore

/// Inputs built to break a parser: nesting 100 000 levels deep and bytes that are not UTF-8. Each
/// reader either reads them or stops with an error; none may crash (a stack overflow would take the
/// server down).
@Suite struct DeepAndMalformedInputTests {
    static let depth = 100_000

    private func drain(_ reader: inout some RecordReader) -> Result<Int, ReaderError> {
        var count = 0
        do {
            while try reader.next() != nil { count += 1 }
            return .success(count)
        } catch {
            return .failure(error)
        }
    }

    @Test func deeplyNestedJSONRecords() {
        let deep = String(repeating: "[", count: Self.depth) + String(repeating: "]", count: Self.depth)
        var reader = JSONRecordReader(fileName: "f", source: MemoryByteSource("[{\"a\":" + deep + "}]"), singleRecord: false)
        _ = drain(&reader)  // reaching here without a crash is the test
        var unclosed = JSONRecordReader(
            fileName: "f", source: MemoryByteSource("[{\"a\":" + String(repeating: "[", count: Self.depth)),
            singleRecord: false)
        guard case .failure = drain(&unclosed) else { Issue.record("an unclosed document was accepted"); return }
    }

    @Test func deeplyNestedJSONLines() {
        let deep = String(repeating: "{\"a\":", count: Self.depth) + "1" + String(repeating: "}", count: Self.depth)
        var reader = JSONLinesRecordReader(fileName: "f", source: MemoryByteSource(deep + "\n"))
        _ = drain(&reader)
    }

    @Test func deeplyNestedXML() {
        let deep = "<rows><row><a>" + String(repeating: "<x>", count: Self.depth) + String(repeating: "</x>", count: Self.depth) + "</a></row></rows>"
        var reader = XMLRecordReader(fileName: "f", source: MemoryByteSource(deep), fields: .textOfChildren, singleRecord: false)
        _ = drain(&reader)
    }

    @Test func invalidUTF8InEveryTextReader() throws {
        let bad: [UInt8] = [0xFF, 0xFE, 0xC3, 0x28, 0xE2, 0x82]
        var csv = try CSVRecordReader(fileName: "f", source: MemoryByteSource(Array("a,b\n".utf8) + bad + Array(",x\n".utf8)), spec: JSONObject())
        #expect(try drain(&csv).get() == 1)
        var tsv = try TSVRecordReader(fileName: "f", source: MemoryByteSource(Array("a\tb\n".utf8) + bad + Array("\tx".utf8)), spec: JSONObject())
        #expect(try drain(&tsv).get() == 1)
        var json = JSONRecordReader(fileName: "f", source: MemoryByteSource(Array("[{\"a\":\"".utf8) + bad + Array("\"}]".utf8)), singleRecord: false)
        _ = drain(&json)
        var jsonl = JSONLinesRecordReader(fileName: "f", source: MemoryByteSource(Array("{\"a\":\"".utf8) + bad + Array("\"}\n".utf8)))
        _ = drain(&jsonl)
        var xml = XMLRecordReader(
            fileName: "f", source: MemoryByteSource(Array("<r><row><a>".utf8) + bad + Array("</a></row></r>".utf8)),
            fields: .textOfChildren, singleRecord: false)
        guard case .failure = drain(&xml) else { Issue.record("libxml2 accepted invalid UTF-8"); return }
    }
}
