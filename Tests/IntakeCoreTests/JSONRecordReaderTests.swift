import Testing

@testable import IntakeCore

@Suite struct JSONRecordReaderTests {
    private func read(_ text: String, singleRecord: Bool = false) throws -> [SourceRecord] {
        var reader = JSONRecordReader(fileName: "data0", source: MemoryByteSource(text), singleRecord: singleRecord)
        var records: [SourceRecord] = []
        while let r = try reader.next() { records.append(r) }
        return records
    }

    @Test func arrayGivesOneRecordPerElementWithLines() throws {
        let records = try read("\u{FEFF}[\n {\"a\":1},\n {\"a\":\"x,]\"}\n]\n")
        #expect(records.map(\.value.compactJSON) == [#"{"a":1}"#, #"{"a":"x,]"}"#])
        #expect(records.map(\.line) == [2, 3])
    }

    @Test func objectGivesItsValuesAndScalarsGiveNothing() throws {
        #expect(try read(#"{"x":{"a":1},"y":{"a":2}}"#).count == 2)
        #expect(try read("42").isEmpty)
        #expect(try read(#"{"a":1}"#, singleRecord: true).map(\.value.compactJSON) == [#"{"a":1}"#])
    }

    @Test func malformedInputNamesFileLineAndColumn() {
        #expect(throws: ReaderError("JSON syntax error in data0 at line 3, column 6: Expected ':' after object key", line: 3)) {
            try read("[\n{\"a\":1},\n{\"b\" 2}]")
        }
        #expect(throws: ReaderError.self) { try read("[{\"a\":1}") }
        #expect(throws: ReaderError.self) { try read("") }
    }

    @Test func readsAcrossChunkBoundaries() throws {
        let element = #"{"name":"\#(String(repeating: "é", count: 1000))"}"#
        let text = "[" + Array(repeating: element, count: 600).joined(separator: ",") + "]"
        let records = try read(text)
        #expect(records.count == 600)
        #expect(records.last?.value == records.first?.value)
    }
}

extension JSONRecordReaderTests {
    @Test func skippingChecksWithoutBuilding() throws {
        var reader = JSONRecordReader(fileName: "d", source: MemoryByteSource("[{\"a\":[1,2,{\"b\":\"\\u00e9\"}]},\n{\"a\" 1}]"), singleRecord: false)
        #expect(try reader.skipNext())
        #expect(throws: ReaderError("JSON syntax error in d at line 2, column 6: Expected ':' after object key", line: 2)) {
            try reader.skipNext()
        }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.validate([0x22, 0xFF, 0x22]) }
        try JSONParser.validate(Array("{\"x\":[true,null,-1.5e3,\"é\"]}".utf8))
    }
}
