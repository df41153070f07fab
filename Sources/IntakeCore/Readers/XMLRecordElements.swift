/// The record elements of an XML file as bytes, in the order the XML readers read them: the root
/// element's child elements, or with `singleRecord` the root element itself. Used to hand failed
/// records back as they were (docs/api.md "Failed records as they came"), not to read values: it
/// follows tags, comments, CDATA, processing instructions and the DOCTYPE only as far as needed to
/// know where each element starts and ends. The file was well-formed when it was imported.
package struct XMLRecordElements {
    private var stream: ByteStream
    private let singleRecord: Bool
    /// Everything before the first record: the prolog and, unless `singleRecord`, the root's start
    /// tag. Complete once `next()` has been called.
    package private(set) var head: [UInt8] = []
    /// The root element's name (empty until `next()` has been called).
    package private(set) var rootName = ""
    private var started = false
    private var finished = false

    package init(source: any ByteSource, singleRecord: Bool) {
        stream = ByteStream(source)
        self.singleRecord = singleRecord
    }

    /// The next record element's bytes, or nil after the last.
    package mutating func next() throws(ReaderError) -> [UInt8]? {
        if !started {
            started = true
            // The prolog, up to the root's start tag.
            while true {
                guard let token = try nextToken() else { finished = true; return nil }
                if case .start(let bytes, let empty) = token {
                    rootName = Self.name(bytes)
                    if singleRecord {
                        finished = true
                        return empty ? bytes : try element(from: bytes)
                    }
                    head += bytes
                    if empty { finished = true; return nil }
                    break
                }
                head += token.bytes
            }
        }
        guard !finished else { return nil }
        while let token = try nextToken() {
            switch token {
            case .start(let bytes, let empty): return empty ? bytes : try element(from: bytes)
            case .end: finished = true; return nil
            case .other: continue
            }
        }
        finished = true
        return nil
    }

    /// The rest of an element whose start tag was `start`, through its end tag.
    private mutating func element(from start: [UInt8]) throws(ReaderError) -> [UInt8] {
        var bytes = start
        var depth = 1
        while depth > 0, let token = try nextToken() {
            bytes += token.bytes
            switch token {
            case .start(_, let empty): if !empty { depth += 1 }
            case .end: depth -= 1
            case .other: break
            }
        }
        return bytes
    }

    private enum Token {
        case start([UInt8], empty: Bool)
        case end([UInt8])
        /// Text, comments, CDATA, processing instructions, the DOCTYPE.
        case other([UInt8])

        var bytes: [UInt8] {
            switch self {
            case .start(let b, _), .end(let b), .other(let b): b
            }
        }
    }

    private mutating func nextToken() throws(ReaderError) -> Token? {
        guard let first = try stream.next() else { return nil }
        var bytes = [first]
        guard first == UInt8(ascii: "<") else {
            while let b = try stream.peek(), b != UInt8(ascii: "<") { bytes.append(try stream.next()!) }
            return .other(bytes)
        }
        guard let second = try stream.next() else { return .other(bytes) }
        bytes.append(second)
        switch second {
        case UInt8(ascii: "?"):
            try read(until: Array("?>".utf8), into: &bytes)
            return .other(bytes)
        case UInt8(ascii: "!"):
            if try stream.peek() == UInt8(ascii: "-") {
                try read(until: Array("-->".utf8), into: &bytes)
            } else if try stream.peek() == UInt8(ascii: "[") {
                try read(until: Array("]]>".utf8), into: &bytes)
            } else {
                try readMarkup(into: &bytes, brackets: true)
            }
            return .other(bytes)
        case UInt8(ascii: "/"):
            try read(until: Array(">".utf8), into: &bytes)
            return .end(bytes)
        default:
            try readMarkup(into: &bytes, brackets: false)
            return .start(bytes, empty: bytes.count >= 2 && bytes[bytes.count - 2] == UInt8(ascii: "/"))
        }
    }

    private mutating func read(until end: [UInt8], into bytes: inout [UInt8]) throws(ReaderError) {
        while let b = try stream.next() {
            bytes.append(b)
            if bytes.count >= end.count + 2, bytes.suffix(end.count).elementsEqual(end) { return }
        }
    }

    /// A start tag, or `<!DOCTYPE …>` (`brackets`: with its internal subset): up to the `>` outside
    /// quoted values (and brackets).
    private mutating func readMarkup(into bytes: inout [UInt8], brackets allowed: Bool) throws(ReaderError) {
        var brackets = 0
        var quote: UInt8?
        while let b = try stream.next() {
            bytes.append(b)
            if let open = quote {
                if b == open { quote = nil }
            } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                quote = b
            } else if allowed && b == UInt8(ascii: "[") {
                brackets += 1
            } else if allowed && b == UInt8(ascii: "]") {
                brackets -= 1
            } else if b == UInt8(ascii: ">") && brackets <= 0 {
                return
            }
        }
    }

    /// The element name of a start tag's bytes.
    static func name(_ tag: [UInt8]) -> String {
        let name = tag.dropFirst().prefix { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ">")) }
        return decodeUTF8(name)
    }

    /// Where an attribute can be added to an element's bytes: just after its name.
    package static func attributeInsertionPoint(_ element: [UInt8]) -> Int {
        1 + element.dropFirst().prefix { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ">")) }.count
    }
}
