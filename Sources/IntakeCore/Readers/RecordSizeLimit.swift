/// The largest record a reader accepts, so that one oversized record (a quote never closed, a
/// line never ended, a 3 GiB cell) ends the run with a clear error instead of taking the server's
/// memory. The default suits any real record; a file specification may set its own with the option
/// `maxRecordBytes` (up to 1 GiB), for a feed that truly carries huge values.
package enum RecordSizeLimit {
    package static let defaultBytes = 16 << 20
    package static let largestAllowed = 1 << 30

    /// The limit of a file specification.
    package static func bytes(_ spec: JSONObject, fileName: String) throws(ReaderError) -> Int {
        guard let option = spec["maxRecordBytes"], !option.isMissing else { return defaultBytes }
        guard case .number(let n) = option, n >= 1, n <= Double(largestAllowed), n == n.rounded() else {
            throw ReaderError("maxRecordBytes for file \(fileName) must be a whole number of bytes from 1 to \(largestAllowed): \(option.jsForm)")
        }
        return Int(n)
    }

    package static func exceeded(fileName: String, line: Int, limit: Int) -> ReaderError {
        ReaderError(
            "A record in \(fileName) starting at line \(line) is longer than \(limit) bytes, the limit for one record (set maxRecordBytes in the file's specification to allow more)",
            line: line)
    }
}
