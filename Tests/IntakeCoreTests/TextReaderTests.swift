import Testing

@testable import IntakeCore

@Suite struct TextReaderTests {
    private func records(_ reader: inout some RecordReader) throws -> [String] {
        var out: [String] = []
        while let r = try reader.next() { out.append(r.value.compactJSON) }
        return out
    }

    private func tsv(_ bytes: [UInt8], _ spec: String = "{}") throws -> [String] {
        var reader = try TSVRecordReader(fileName: "f", source: MemoryByteSource(bytes), spec: try JSONParser.parse(spec).objectValue!)
        return try records(&reader)
    }

    private func csv(_ bytes: [UInt8], _ spec: String = "{}") throws -> [String] {
        var reader = try CSVRecordReader(fileName: "f", source: MemoryByteSource(bytes), spec: try JSONParser.parse(spec).objectValue!)
        return try records(&reader)
    }

    @Test func tsvSpecExample() throws {
        #expect(try tsv(Array("ID\tVALUE\tX\n1234\tPING\n654\tPONG\tY".utf8)) == [#"{"ID":"1234","VALUE":"PING"}"#, #"{"ID":"654","VALUE":"PONG","X":"Y"}"#])
    }

    @Test func tsvBlankLinesVanishAndATrailingBreakGivesAnEmptyRecord() throws {
        #expect(try tsv(Array("A\tB\r\n\r\n1\t2\n\n\n3\t\n".utf8)) == [#"{"A":"1","B":"2"}"#, #"{"A":"3"}"#, "{}"])
        #expect(try tsv([]) == [])
        #expect(try tsv(Array("A\tB".utf8)) == [])
        #expect(try tsv(Array("A\tB\n".utf8)) == ["{}"])
        #expect(try tsv(Array("\nA\n1".utf8)) == [#"{"":"A"}"#, #"{"":"1"}"#])
    }

    @Test func tsvSeparatorAndDuplicateNames() throws {
        #expect(try tsv(Array("a, b, a\n1, 2, 3".utf8), #"{"separator":", "}"#) == [#"{"a":"3","b":"2"}"#])
        #expect(try tsv(Array("a\ta\n1\t".utf8)) == [#"{"a":"1"}"#])
    }

    @Test func tsvCharsets() throws {
        // "é" and "Ł" in windows-1252 cannot both exist; use é and the euro sign (0x80).
        #expect(try tsv([0x4E, 0x0A, 0xE9, 0x80], #"{"charset":"windows-1252"}"#) == [#"{"N":"é€"}"#])
        #expect(try tsv([0x4E, 0x0A, 0xE9], #"{"charset":"ISO-8859-1"}"#) == [#"{"N":"é"}"#])
        let utf16: [UInt8] = [0xFF, 0xFE] + Array("N\n東京Ł".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        #expect(try tsv(utf16, #"{"charset":"UTF-16"}"#) == [#"{"N":"東京Ł"}"#])
        #expect(try tsv([0xEF, 0xBB, 0xBF] + Array("N\nx".utf8)) == [#"{"N":"x"}"#])
        #expect(throws: ReaderError("Unknown charset for file f: klingon")) { try tsv([], #"{"charset":"klingon"}"#) }
    }

    @Test func csvQuotedFieldsAcrossLines() throws {
        let text = "\u{FEFF}id,name,notes\r\n1,\"Smith, Jo\",\"said \"\"hi\"\"\nthen left\"\r\n\r\n2,東京,\n"
        #expect(
            try csv(Array(text.utf8)) == [
                #"{"id":"1","name":"Smith, Jo","notes":"said \"hi\"\nthen left"}"#,
                #"{"id":"2","name":"東京","notes":""}"#
            ])
        #expect(try csv(Array("a;b\n1;2".utf8), #"{"separator":";"}"#) == [#"{"a":"1","b":"2"}"#])
        #expect(try csv(Array("a,b\n".utf8)) == [])
        #expect(try csv([]) == [])
        #expect(throws: ReaderError.self) { try csv(Array("a\n\"open".utf8)) }
    }

    @Test func csvRecordsKnowTheirLine() throws {
        var reader = try CSVRecordReader(fileName: "f", source: MemoryByteSource("a\n\"x\ny\"\nz\n"), spec: JSONObject())
        #expect(try reader.next()?.line == 2)
        #expect(try reader.next()?.line == 4)
    }

    @Test func jsonLines() throws {
        var reader = JSONLinesRecordReader(fileName: "f.jsonl", source: MemoryByteSource("{\"a\":1}\r\n\n{\"a\":2}\n"))
        #expect(try records(&reader) == [#"{"a":1}"#, #"{"a":2}"#])
        var bad = JSONLinesRecordReader(fileName: "f.jsonl", source: MemoryByteSource("{\"a\":1}\n{\"a\" 2}\n"))
        #expect(throws: ReaderError("JSON syntax error in f.jsonl at line 2, column 6: Expected ':' after object key", line: 2)) {
            try records(&bad)
        }
    }

    @Test func csvRowsAcrossReadBuffers() throws {
        // Rows of every length around the 256 KiB buffer, one longer than it, quoted fields with line
        // breaks and doubled quotes at the seams, CRLF line ends.
        var text = "id,text,n\r\n"
        var expected: [String] = []
        var lines: [Int] = []
        var line = 2
        for i in 0..<6000 {
            let body = i == 3000 ? String(repeating: "ł", count: 300_000) : String(repeating: "x", count: i % 97)
            let field = "\"\(body) \"\"q\"\"\nnext\""
            text += "\(i),\(field),é\(i)\r\n"
            expected.append(#"{"id":"\#(i)","text":"\#(body) \"q\"\nnext","n":"é\#(i)"}"#)
            lines.append(line)
            line += 2
        }
        var reader = try CSVRecordReader(fileName: "f", source: MemoryByteSource(text), spec: JSONObject())
        var got: [String] = []
        var gotLines: [Int] = []
        while let record = try reader.next() {
            got.append(record.value.compactJSON)
            gotLines.append(record.line)
        }
        #expect(got.count == expected.count)
        #expect(got == expected)
        #expect(gotLines == lines)
        #expect(reader.bytesRead == text.utf8.count)
    }

    @Test func jsonLinesAcrossReadBuffersAndAtTheEdges() throws {
        // A line longer than the 256 KiB read buffer, a BOM, a last line without a newline.
        let long = String(repeating: "é", count: 200_000)
        let text = "\u{FEFF}{\"a\":1}\n  \t\n{\"long\":\"\(long)\"}\r\n{\"a\":\"Łódź 東京\"}"
        var reader = JSONLinesRecordReader(fileName: "f.jsonl", source: MemoryByteSource(text))
        var lines: [Int] = []
        var values: [String] = []
        while let record = try reader.next() {
            lines.append(record.line)
            values.append(record.value["long"]?.stringValue.map { "long \($0.count)" } ?? record.value.compactJSON)
        }
        #expect(lines == [1, 3, 4])
        #expect(values == [#"{"a":1}"#, "long 200000", #"{"a":"Łódź 東京"}"#])
        #expect(reader.bytesRead == text.utf8.count)

        var checker = JSONLinesRecordReader(fileName: "f.jsonl", source: MemoryByteSource(text + "\n{\"b\": x}\n"))
        var checked = 0
        do {
            while try checker.skipNext() { checked += 1 }
            Issue.record("no error")
        } catch {
            #expect(error == ReaderError("JSON syntax error in f.jsonl at line 5, column 7: Unexpected character 'x'", line: 5))
        }
        #expect(checked == 3)
    }
}
