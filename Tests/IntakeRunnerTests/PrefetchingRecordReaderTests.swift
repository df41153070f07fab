import IntakeCore
import Testing

@testable import IntakeRunner

@Suite struct PrefetchingRecordReaderTests {
    private func json(_ count: Int, tail: String = "]") -> String {
        "[" + (1...count).map { "{\"n\":\($0)}" }.joined(separator: ",\n") + tail
    }

    @Test func handsOverEveryRecordInOrder() throws {
        let text = json(1000)
        let reader = PrefetchingRecordReader(JSONRecordReader(fileName: "f.json", source: MemoryByteSource(text), singleRecord: false))
        var numbers: [Int] = []
        while let record = try reader.next() {
            guard case .object(let o) = record.value, case .number(let n)? = o["n"] else { Issue.record("not a record"); return }
            numbers.append(Int(n))
            #expect(record.line == numbers.count)
        }
        #expect(numbers == Array(1...1000))
        #expect(try reader.next() == nil)
        #expect(reader.bytesRead == text.utf8.count)
    }

    @Test func aDigestingReaderGivesEachRecordItsOwnDigest() throws {
        let reader = PrefetchingRecordReader(
            JSONRecordReader(fileName: "f.json", source: MemoryByteSource(json(1000)), singleRecord: false), digesting: true)
        var buffer: [UInt8] = []
        var digests = Set<String>()
        while let record = try reader.next() {
            let digest = try #require(reader.digest)
            #expect(digest == FeedRun.digest(of: record.value, buffer: &buffer))
            digests.insert(digest)
        }
        #expect(digests.count == 1000)
        let plain = PrefetchingRecordReader(JSONRecordReader(fileName: "f.json", source: MemoryByteSource(json(3)), singleRecord: false))
        _ = try plain.next()
        #expect(plain.digest == nil)
    }

    @Test func anErrorComesAfterTheRecordsBeforeIt() throws {
        let reader = PrefetchingRecordReader(JSONRecordReader(fileName: "f.json", source: MemoryByteSource(json(300, tail: ",}")), singleRecord: false))
        var count = 0
        do {
            while try reader.next() != nil { count += 1 }
            Issue.record("no error")
        } catch {
            #expect(error.line == 300)
        }
        #expect(count == 300)
    }

    @Test func releasingTheReaderEarlyStopsItsThread() throws {
        for _ in 0..<20 {
            let reader = PrefetchingRecordReader(JSONRecordReader(fileName: "f.json", source: MemoryByteSource(json(5000)), singleRecord: false))
            #expect(try reader.next() != nil)
        }
    }
}
