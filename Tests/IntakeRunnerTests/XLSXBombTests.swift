import Foundation
import Testing
import ZIPFoundation

@testable import IntakeCore
@testable import IntakeRunner

/// Workbooks that inflate far beyond their size, or carry one enormous cell, are refused with an error
/// naming the part and the limit, before they can take the server's memory. Generated here, never
/// committed.
@Suite struct XLSXBombTests {
    static let header = #"<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c></row>"#

    private func drain(_ url: URL, limits: XLSXLimits = XLSXLimits(), maxCellBytes: Int = RecordSizeLimit.defaultBytes) throws -> Int {
        var reader = try XLSXReader.open(fileName: "book", path: url.path, sheet: nil, limits: limits, maxCellBytes: maxCellBytes)
        var count = 0
        while try reader.next() != nil { count += 1 }
        return count
    }

    private func expectError(_ message: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error")
        } catch let error as ReaderError {
            #expect(error.message == message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func aStylesPartThatInflatesAThousandfoldIsRefused() throws {
        let styles = #"<?xml version="1.0"?><styleSheet>"# + String(repeating: " ", count: 8 << 20) + "</styleSheet>"
        let url = try XLSXReaderTests.workbook(sheets: [("S", Self.header)], sharedStrings: [], styles: styles)
        defer { try? FileManager().removeItem(at: url) }
        let compressed = try #require(try ZIPSizes.compressedSize(of: "xl/styles.xml", in: url))
        expectError(
            "File book: xl/styles.xml inflates to more than 200 times its compressed size (\(compressed) bytes), which only a zip bomb does; the workbook is refused"
        ) {
            _ = try drain(url)
        }
    }

    @Test func aPartOverItsSizeLimitIsRefused() throws {
        let styles = #"<?xml version="1.0"?><styleSheet>"# + String(repeating: " ", count: 3 << 20) + "</styleSheet>"
        let url = try XLSXReaderTests.workbook(sheets: [("S", Self.header)], sharedStrings: [], styles: styles)
        defer { try? FileManager().removeItem(at: url) }
        var limits = XLSXLimits()
        limits.smallPartBytes = 1 << 20
        limits.maxRatio = .max
        expectError("File book: xl/styles.xml inflates to more than \(1 << 20) bytes, the limit for that part of a workbook; the workbook is refused") {
            _ = try drain(url, limits: limits)
        }
        limits.smallPartBytes = 32 << 20
        limits.totalBytes = 2 << 20
        expectError("File book: the workbook inflates to more than \(2 << 20) bytes in all, the limit for one workbook; it is refused") {
            _ = try drain(url, limits: limits)
        }
    }

    @Test func oneHugeCellIsRefusedWithTheRecordLimit() throws {
        let cell = String(repeating: "z", count: 3 << 20)
        let rows =
            Self.header
            + #"<row r="2"><c r="A2" t="inlineStr"><is><t>ok</t></is></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>\#(cell)</t></is></c></row>"#
        let url = try XLSXReaderTests.workbook(sheets: [("S", rows)], sharedStrings: [])
        defer { try? FileManager().removeItem(at: url) }
        var limits = XLSXLimits()
        limits.maxRatio = .max
        expectError(RecordSizeLimit.exceeded(fileName: "book", line: 1, limit: 1 << 20).message) {
            _ = try drain(url, limits: limits, maxCellBytes: 1 << 20)
        }
    }

    @Test func oneHugeSharedStringIsRefused() throws {
        let url = try XLSXReaderTests.workbook(sheets: [("S", Self.header)], sharedStrings: [String(repeating: "q", count: 2 << 20)])
        defer { try? FileManager().removeItem(at: url) }
        var limits = XLSXLimits()
        limits.maxRatio = .max
        expectError(
            "File book: a shared string of the workbook is longer than \(1 << 20) bytes, the limit for one cell (set maxRecordBytes in the file's specification to allow more)"
        ) {
            _ = try drain(url, limits: limits, maxCellBytes: 1 << 20)
        }
    }
}

enum ZIPSizes {
    static func compressedSize(of path: String, in url: URL) throws -> Int64? {
        let archive = try Archive(url: url, accessMode: .read)
        return archive[path].map { max(Int64($0.compressedSize), 1) }
    }
}
