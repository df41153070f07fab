import Testing

@testable import IntakeCore

/// One oversized record ends the run with an error naming the file and line, in every reader, before
/// it can take the server's memory; and a long row costs time in proportion to its length.
@Suite struct RecordSizeLimitTests {
    static let limit = RecordSizeLimit.defaultBytes
    static let big = [UInt8](repeating: UInt8(ascii: "x"), count: limit + 1024)

    private func spec(_ text: String = "{}") throws -> JSONObject { try JSONParser.parse(text).objectValue! }

    private func drain(_ reader: inout some RecordReader) throws(ReaderError) {
        while try reader.next() != nil {}
    }

    private func expectLimitError(line: Int, file: String = "data0", _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error")
        } catch let error as ReaderError {
            #expect(
                error.message
                    == "A record in \(file) starting at line \(line) is longer than \(Self.limit) bytes, the limit for one record (set maxRecordBytes in the file's specification to allow more)"
            )
            #expect(error.line == line)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func csvUnterminatedQuoteHitsTheLimitAfterLinearWork() throws {
        // Rows grow in a buffer that doubles, so the error comes at the first doubling past the limit.
        let input = Array("a,b\n1,2\n3,\"".utf8) + Self.big + Self.big
        var reader = try CSVRecordReader(fileName: "data0", source: MemoryByteSource(input), spec: try spec())
        expectLimitError(line: 3) { try drain(&reader) }
        // Every rescan follows a doubling of the buffer: the rescanned bytes stay within twice the row.
        #expect(reader.rescannedBytes < 2 * input.count)
    }

    @Test func csvUnterminatedQuoteUnderARaisedLimitIsReportedAsSuch() throws {
        let input = Array("a\n\"".utf8) + Self.big
        var reader = try CSVRecordReader(fileName: "data0", source: MemoryByteSource(input), spec: try spec(#"{"maxRecordBytes":33554432}"#))
        #expect(throws: ReaderError("Unterminated quoted field in data0 starting at line 2", line: 2)) { try drain(&reader) }
        #expect(reader.rescannedBytes < 2 * input.count)
    }

    @Test func tsvLineOverTheLimit() throws {
        var reader = try TSVRecordReader(fileName: "data0", source: MemoryByteSource(Array("a\n".utf8) + Self.big), spec: try spec())
        expectLimitError(line: 2) { try drain(&reader) }
    }

    @Test func jsonlLineOverTheLimit() throws {
        var reader = JSONLinesRecordReader(fileName: "data0", source: MemoryByteSource(Array("{}\n\"".utf8) + Self.big))
        expectLimitError(line: 2) { try drain(&reader) }
    }

    @Test func jsonValueOverTheLimit() throws {
        var reader = JSONRecordReader(
            fileName: "data0", source: MemoryByteSource(Array("[{\"a\":1},\n{\"a\":\"".utf8) + Self.big + Array("\"}]".utf8)),
            singleRecord: false)
        expectLimitError(line: 2) { try drain(&reader) }
    }

    @Test func xmlRecordOverTheLimit() throws {
        // Several fields of 6 MiB: each is within libxml2's own text limit, the record is not.
        let field = String(repeating: "y", count: 6 << 20)
        let xml = "<rows>\n<row><a>1</a></row>\n<row><a>\(field)</a><b>\(field)</b><c>\(field)</c></row></rows>"
        var reader = XMLRecordReader(fileName: "data0", source: MemoryByteSource(xml), fields: .textOfChildren, singleRecord: false)
        expectLimitError(line: 3) { try drain(&reader) }
    }

    @Test func theOptionIsChecked() throws {
        #expect(throws: ReaderError("maxRecordBytes for file f must be a whole number of bytes from 1 to \(1 << 30): -3")) {
            _ = try RecordSizeLimit.bytes(try spec(#"{"maxRecordBytes":-3}"#), fileName: "f")
        }
        #expect(try RecordSizeLimit.bytes(try spec(#"{"maxRecordBytes":1024}"#), fileName: "f") == 1024)
    }
}
