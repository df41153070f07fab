import Foundation
import Testing

@testable import IntakeHTTP

@Suite struct MultipartStreamParserTests {
    struct Part: Equatable {
        var headers: [String] = []
        var body: [UInt8] = []
    }

    private func parse(_ body: [UInt8], boundary: String, chunkSizes: [Int]) throws -> (parts: [Part], complete: Bool) {
        var parts: [Part] = []
        var current = Part()
        var parser = MultipartStreamParser(boundary: boundary)
        parser.onHeader = { name, value in current.headers.append("\(name)=\(value)") }
        parser.onBody = { bytes in current.body.append(contentsOf: bytes) }
        parser.onPartComplete = {
            parts.append(current)
            current = Part()
        }
        var offset = 0
        var sizes = chunkSizes.makeIterator()
        while offset < body.count {
            let size = max(1, sizes.next() ?? 7)
            let end = min(body.count, offset + size)
            try body[offset..<end].withUnsafeBytes { try parser.execute($0) }
            offset = end
        }
        return (parts, parser.isComplete)
    }

    @Test func partsSurviveEverySplitOfTheInput() throws {
        let boundary = "----b0undary"
        // Bodies full of near-delimiters: CR, CRLF, CRLF--, most of the boundary.
        let tricky: [UInt8] = Array("a\r\r\n\r\n-\r\n--\r\n----b0und\r\n----b0undar\rz".utf8) + [0, 13, 255, 10, 13]
        var body: [UInt8] = Array("preamble, ignored\r\n".utf8)
        body += Array("------b0undary\r\nContent-Disposition: form-data; name=\"batch\"\r\n\r\nabc\r\n".utf8)
        body += Array(
            "------b0undary  \r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += tricky
        body += Array("\r\n------b0undary\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n".utf8)
        body += Array("\r\n------b0undary--\r\nepilogue, ignored".utf8)
        let expected = [
            Part(headers: ["Content-Disposition=form-data; name=\"batch\""], body: Array("abc".utf8)),
            Part(
                headers: ["Content-Disposition=form-data; name=\"file\"; filename=\"x.bin\"", "Content-Type=application/octet-stream"],
                body: tricky),
            Part(headers: ["Content-Disposition=form-data; name=\"empty\""], body: [])
        ]
        for size in 1...body.count {
            let result = try parse(body, boundary: boundary, chunkSizes: Array(repeating: size, count: body.count))
            #expect(result.parts == expected, "chunks of \(size)")
            #expect(result.complete)
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let sizes = (0..<body.count).map { _ in Int.random(in: 1...40, using: &generator) }
            #expect(try parse(body, boundary: boundary, chunkSizes: sizes).parts == expected)
        }
    }

    @Test func aBodyStartingWithTheDelimiterAndMalformedHeaders() throws {
        let body = Array("--b\r\nno colon here\r\n\r\nx\r\n--b--".utf8)
        #expect(throws: MultipartStreamParser.Failure.self) { _ = try parse(body, boundary: "b", chunkSizes: [100]) }
        let noLineBreak = Array("--bXY\r\n".utf8)
        #expect(throws: MultipartStreamParser.Failure.self) { _ = try parse(noLineBreak, boundary: "b", chunkSizes: [100]) }
        let huge = Array("--b\r\n".utf8) + Array(repeating: UInt8(ascii: "h"), count: 20_000)
        #expect(throws: MultipartStreamParser.Failure.self) { _ = try parse(huge, boundary: "b", chunkSizes: [4096]) }
    }
}

extension MultipartStreamParserTests {
    @Test func partHeadersOverTheLimitAreRefusedEvenInOneChunk() throws {
        let long = String(repeating: "x", count: MultipartStreamParser.maximumHeaderBytes)
        let body = Array("--b\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Long: \(long)\r\n\r\nvalue\r\n--b--\r\n".utf8)
        var parser = MultipartStreamParser(boundary: "b")
        #expect(throws: MultipartStreamParser.Failure.self) {
            try body.withUnsafeBytes { try parser.execute($0) }
        }
    }
}
