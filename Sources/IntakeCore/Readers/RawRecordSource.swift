/// A reader that can give back each record as it was in the file, for handing failed records back
/// to the people who sent them (docs/api.md "Failed records as they came"). Off by default: keeping
/// the bytes costs a copy per record, which an import does not pay.
package protocol RawRecordSource: RecordReader {
    /// From now on, keep the bytes of each record read.
    mutating func keepRawRecords()
    /// The bytes of the record read last, as they were in the file (after any charset conversion,
    /// so UTF-8), without the line break that ended it.
    var rawRecord: [UInt8] { get }
    /// The header row of a format that has one (csv, tsv), without its line break; nil otherwise
    /// or before the first record.
    var rawHeader: [UInt8]? { get }
}

extension RawRecordSource {
    package var rawHeader: [UInt8]? { nil }
}

/// Bytes without the CR or LF bytes that end them.
func withoutLineBreak<C: BidirectionalCollection<UInt8>>(_ bytes: C) -> [UInt8] {
    var end = bytes.endIndex
    while end > bytes.startIndex, case let last = bytes[bytes.index(before: end)], last == 0x0A || last == 0x0D {
        end = bytes.index(before: end)
    }
    return Array(bytes[bytes.startIndex..<end])
}
