import IntakeCore
import Testing

@testable import IntakeRunner

/// Looking ahead changes nothing about what `next` returns: every record once, in order, and a
/// reader error after the records before it.
@Suite struct LookaheadRecordReaderTests {
    private func reader(_ count: Int, tail: String = "]") -> LookaheadRecordReader {
        let text = "[" + (1...count).map { "{\"n\":\($0)}" }.joined(separator: ",\n") + tail
        return LookaheadRecordReader(JSONRecordReader(fileName: "f.json", source: MemoryByteSource(text), singleRecord: false))
    }

    private func number(_ record: SourceRecord?) -> Int? {
        guard case .object(let o)? = record?.value, case .number(let n)? = o["n"] else { return nil }
        return Int(n)
    }

    @Test func recordsLookedAtComeBackOnceInOrder() throws {
        let reader = reader(10)
        #expect(number(try reader.next()) == 1)
        #expect(reader.peek(3).map(number) == [2, 3, 4])
        #expect(reader.peek(2).map(number) == [2, 3], "looking again reads nothing more")
        #expect(number(try reader.next()) == 2)
        #expect(reader.peek(20).map(number) == Array(3...10), "no more than there are")
        var rest: [Int?] = []
        while let record = try reader.next() { rest.append(number(record)) }
        #expect(rest == Array(3...10))
        #expect(reader.peek(5).isEmpty)
        #expect(try reader.next() == nil)
    }

    @Test func anErrorMetWhileLookingComesAfterTheRecordsBeforeIt() throws {
        let reader = reader(5, tail: ",}")
        #expect(reader.peek(10).count == 5)
        var count = 0
        do {
            while try reader.next() != nil { count += 1 }
            Issue.record("no error")
        } catch {
            #expect(error.line == 5)
        }
        #expect(count == 5)
    }
}
