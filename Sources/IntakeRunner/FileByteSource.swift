import Foundation
import IntakeCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a file with plain `read(2)` calls, chunk by chunk.
package final class FileByteSource: ByteSource {
    private let fd: Int32

    package init(path: String) throws {
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
    }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw CocoaError(.fileReadUnknown) }
        }
    }

    deinit { close(fd) }
}
