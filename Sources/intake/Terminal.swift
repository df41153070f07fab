import Foundation
import IntakeClient
import IntakeCore
import Synchronization

/// Progress and messages for a person, on stderr: a redrawn line with a bar on a terminal, plain
/// lines otherwise (logs of cron jobs stay readable). Colour only on a terminal, never with NO_COLOR.
final class Terminal: Sendable {
    static let standardError = Terminal(descriptor: STDERR_FILENO)

    let isInteractive: Bool
    let usesColour: Bool
    private let descriptor: Int32
    private struct State {
        var drawn = false
        var lastDraw = ContinuousClock.now - .seconds(1)
    }
    private let state = Mutex(State())

    init(descriptor: Int32) {
        self.descriptor = descriptor
        isInteractive = isatty(descriptor) == 1
        usesColour = isInteractive && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
    }

    enum Colour: String {
        case green = "32"
        case red = "31"
    }

    func coloured(_ text: String, _ colour: Colour) -> String {
        usesColour ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    func line(_ text: String) {
        clearProgress()
        write(text + "\n")
    }

    /// Redraws the progress line (at most ten times a second); nothing when not on a terminal.
    func progress(fraction: Double?, _ text: String, force: Bool = false) {
        guard isInteractive else { return }
        let draw = state.withLock { state -> Bool in
            let now = ContinuousClock.now
            guard force || now - state.lastDraw >= .milliseconds(100) else { return false }
            state.lastDraw = now
            state.drawn = true
            return true
        }
        guard draw else { return }
        var bar = ""
        if let fraction {
            let width = 24
            let filled = max(0, min(width, Int(fraction * Double(width))))
            bar =
                "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
                + String(format: "%3d%% ", Int(fraction * 100))
        }
        write("\r\u{1B}[K" + bar + text)
    }

    func clearProgress() {
        let drawn = state.withLock { state in
            defer { state.drawn = false }
            return state.drawn
        }
        if drawn { write("\r\u{1B}[K") }
    }

    /// Draws an upload's bytes, rate and time left.
    func uploadProgress(label: String) -> UploadProgress? {
        guard isInteractive else { return nil }
        let started = ContinuousClock.now
        return { [self] sent, total in
            let seconds = max(0.001, (ContinuousClock.now - started).inSeconds)
            let rate = Double(sent) / seconds
            let left = rate > 0 ? Double(total - sent) / rate : 0
            progress(
                fraction: total > 0 ? Double(sent) / Double(total) : nil,
                "\(label): \(Self.megabytes(sent)) of \(Self.megabytes(total)), \(Self.megabytes(Int64(rate)))/s, \(Int(left.rounded())) s left",
                force: sent == total)
        }
    }

    static func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }

    private func write(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
