import Foundation

/// Finds processing instructions without data (`<?target?>`), chunk by chunk. Foundation's XMLParser
/// calls `strlen` on the data pointer libxml2 gives it, which is null for such an instruction: one
/// `<?x?>` in a file (found by fuzzing) crashes the whole process. The XML and xlsx readers refuse
/// the document instead. Zero bytes are skipped, so UTF-16 documents are scanned the same way. Every
/// `<` starts over, so `<?a b <?c?> ?>` is refused too: stricter than XML, but safe whatever libxml2
/// makes of broken markup.
struct EmptyProcessingInstructionScanner {
    private enum State { case text, afterLessThan, target, afterTarget, questionAfterTarget, data, questionInData }
    private var state = State.text

    /// Whether the bytes seen so far hold no processing instruction without data.
    mutating func accept(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var i = 0
        while i < bytes.count {
            if state == .text {
                guard let hit = memchr(base + i, 0x3C, bytes.count - i) else { return true }
                i = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit)) + 1
                state = .afterLessThan
                continue
            }
            let b = bytes[i]
            i += 1
            if b == 0 { continue }
            let blank = b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
            let question = b == UInt8(ascii: "?")
            // A "<" starts over, even inside an instruction: libxml2 recovers from an unterminated
            // one (an XML declaration cut short) and reads the next "<?" as a new instruction.
            if b == 0x3C {
                state = .afterLessThan
                continue
            }
            switch state {
            case .afterLessThan:
                state = question ? .target : .text
            case .target:
                if blank { state = .afterTarget } else if question { state = .questionAfterTarget }
            case .afterTarget:
                if question { state = .questionAfterTarget } else if !blank { state = .data }
            case .questionAfterTarget:
                if b == UInt8(ascii: ">") { return false }
                state = question ? .questionInData : .data
            case .data:
                if question { state = .questionInData }
            case .questionInData:
                if b == UInt8(ascii: ">") { state = .text } else if !question { state = .data }
            case .text:
                break
            }
        }
        return true
    }
}
