import Foundation

/// A plain TCP connection to the test server, for requests no HTTP client would send: half-sent
/// headers, bodies shorter than their Content-Length.
final class RawConnection {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw CocoaError(.fileReadUnknown) }
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Foundation.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Seconds until the server closed the connection (read returned 0 or failed), reading and
    /// discarding whatever it sent; nil if it stayed open for `limit` seconds.
    func secondsUntilClosed(limit: Double) async throws -> Double? {
        let descriptor = self.descriptor
        return try await onOwnThread {
            var timeout = timeval(tv_sec: Int(limit), tv_usec: Int((limit - Double(Int(limit))) * 1_000_000))
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let start = Date()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(descriptor, &buffer, buffer.count, 0)
                if n > 0 { continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return nil }
                return Date().timeIntervalSince(start)
            }
        }
    }

    deinit { close(descriptor) }
}

/// A loopback port that refuses connections while this is alive: a socket bound to it that never
/// listens. No other server can take the port meanwhile (a port closed a moment ago could be given
/// to the next test's server, which then answered instead of refusing).
final class RefusingPort {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard descriptor >= 0, bound == 0, named == 0 else {
            if descriptor >= 0 { close(descriptor) }
            throw CocoaError(.fileReadUnknown)
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

/// 127.0.0.1:`port` (0: any free port, when bound).
private func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}
