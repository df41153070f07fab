import Foundation
import Testing

@testable import IntakeCore

/// Objects with many keys (a control file naming thousands of files, a hostile record of 100,000
/// keys) are built and read in linear time. Before, every key was looked up by scanning the keys
/// before it: one record of 120,000 keys took 50 s, a control file of 160,000 files 57 s a request.
/// The bounds below are far above the linear times (well under a second here) and far below the
/// quadratic ones, so they fail only when the cost is quadratic again.
@Suite struct LargeObjectTests {
    static func elapsed(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    @Test func aJSONObjectOfManyKeysParsesInLinearTime() throws {
        let count = 200_000
        var text = "{"
        for i in 0..<count { text += (i > 0 ? "," : "") + "\"k\(i)\":\(i)" }
        text += "}"
        var parsed = JSONValue.null
        let seconds = try Self.elapsed { parsed = try JSONParser.parse(text) }
        #expect(seconds < 8, "200,000 keys took \(seconds) s")
        let object = try #require(parsed.objectValue)
        #expect(object.count == count)
        #expect(object["k199999"] == .number(199_999))
        #expect(object.keys.first == "k0")
    }

    @Test func lookupsAboveTheIndexThresholdStayExact() {
        var object = JSONObject()
        for i in 0..<100 { object["k\(i)"] = .number(Double(i)) }
        object["caf\u{E9}"] = .string("composed")
        object["cafe\u{301}"] = .string("decomposed")
        #expect(object["caf\u{E9}"] == .string("composed"))
        #expect(object["cafe\u{301}"] == .string("decomposed"))
        object["k3"] = nil
        #expect(object["k3"] == nil)
        #expect(object["k4"] == .number(4))
        #expect(object.keys.count == 101)
        object["k4"] = .string("replaced")
        #expect(object.index(of: "k4") == 3)
        var small = JSONObject()
        for i in 0..<100 { small["k\(i)"] = .number(Double(i)) }
        var same = JSONObject()
        for i in 0..<100 { same["k\(i)"] = .number(Double(i)) }
        #expect(small == same)
        #expect(small.hashValue == same.hashValue)
    }

    @Test func anXMLRecordOfManyRepeatedFieldsBuildsInLinearTime() throws {
        let count = 60_000
        var xml = "<root><r>"
        for i in 0..<count { xml += "<f\(i)>a</f\(i)>" }
        for i in 0..<count { xml += "<f\(i)>b</f\(i)>" }
        xml += "<last>x</last></r></root>"
        var records: [SourceRecord] = []
        let seconds = try Self.elapsed {
            let reader = XMLRecordReader(fileName: "big.xml", source: MemoryByteSource(Array(xml.utf8)), fields: .textOfChildren, singleRecord: false)
            while let record = try reader.next() { records.append(record) }
        }
        #expect(seconds < 15, "\(2 * count) fields took \(seconds) s")
        let object = try #require(records.first?.value.objectValue)
        #expect(object.count == count + 1)
        #expect(object.keys.first == "f0")
        #expect(object["f0"] == .string("b"))
        #expect(object.keys.last == "last")
    }

    @Test func repeatedXMLFieldsMoveToTheEnd() throws {
        let reader = XMLRecordReader(
            fileName: "d.xml", source: MemoryByteSource(Array("<root><r><a>1</a><b>2</b><a>3</a></r></root>".utf8)),
            fields: .textOfChildren, singleRecord: false)
        #expect(try reader.next()?.value.compactJSON == #"{"b":"2","a":"3"}"#)
    }
}
