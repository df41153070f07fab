import Foundation
import NIOCore
import Testing

@testable import IntakeClient

/// The client's own parts, without a server: upload bodies, configuration profiles, status documents.
@Suite struct ClientPartsTests {
    private func temporaryFile(_ bytes: [UInt8], name: String = "data.json") throws -> URL {
        let folder = FileManager().temporaryDirectory.appendingPathComponent("intake-client-\(UUID().uuidString)")
        try FileManager().createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// The body streams the fields, then the file's bytes unchanged, then the closing boundary, and
    /// is exactly as long as it says (the server is told its length before the first byte).
    @Test func anUploadBodyIsTheFieldsTheFileAndTheBoundaryAtItsDeclaredLength() async throws {
        let bytes = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let url = try temporaryFile(bytes, name: #"a "quoted" name.json"#)
        let multipart = try MultipartFile(path: url.path, fields: [("batch", "b1"), ("name", "people")])
        var body: [UInt8] = []
        var pieces = 0
        for try await piece in multipart.body(progress: nil) {
            body += piece.readableBytesView
            pieces += 1
        }
        #expect(Int64(body.count) == multipart.length)
        #expect(pieces > 3, "the file is sent in pieces, not read whole")
        let text = String(decoding: body.prefix(400), as: UTF8.self)
        #expect(text.hasPrefix("--\(multipart.boundary)\r\nContent-Disposition: form-data; name=\"batch\"\r\n\r\nb1\r\n"))
        #expect(text.contains(#"name="file"; filename="a 'quoted' name.json""#))
        let start = Int(multipart.head.readableBytes)
        #expect(Array(body[start..<(start + bytes.count)]) == bytes)
        #expect(String(decoding: body.suffix(multipart.tail.readableBytes), as: UTF8.self) == "\r\n--\(multipart.boundary)--\r\n")
    }

    @Test func aFileThatCannotBeReadIsRefusedByName() {
        #expect(throws: (any Error).self) { try MultipartFile(path: "/nonexistent/file.json", fields: []) }
        do {
            _ = try MultipartFile(path: FileManager().temporaryDirectory.path, fields: [])
            Issue.record("a folder was accepted as a file")
        } catch {
            #expect("\(error)" == "Cannot read the file \(FileManager().temporaryDirectory.path)")
        }
    }

    @Test func profilesAreSectionsOfNameValueLines() {
        let sections = ClientProfile.parse(
            """
            # a comment
            server = https://intake.example.ac.uk
            key = ik_default

            [staging]
            server = http://127.0.0.1:8080
            ; another comment
            key=ik_staging
            colour = blue
            """)
        #expect(sections["default"] == ClientProfile(server: "https://intake.example.ac.uk", key: "ik_default"))
        #expect(sections["staging"] == ClientProfile(server: "http://127.0.0.1:8080", key: "ik_staging"))
    }

    @Test func aProfileWithKeysThatOthersCanReadIsRefused() throws {
        let url = try temporaryFile(Array("key = ik_x\n".utf8), name: "config")
        chmod(url.path, 0o644)
        #expect(throws: (any Error).self) { try ClientProfile.load(name: "default", path: url.path, required: true) }
        chmod(url.path, 0o600)
        #expect(try ClientProfile.load(name: "default", path: url.path, required: true)?.key == "ik_x")
        #expect(try ClientProfile.load(name: "other", path: url.path, required: false) == nil)
    }

    /// A status document from before the later counts (and without a summary) still reads.
    @Test func statusDocumentsWithoutTheLaterFieldsDecode() throws {
        let json = #"""
            {"identifier": "b1", "state": "complete", "comment": "c", "dryRun": false, "errors": 0,
             "progress": {"recordsRead": 3, "recordsApplied": 3, "recordsFailed": 0, "recordsUnchanged": 0, "bytesRead": 9, "bytesTotal": 9}}
            """#
        let status = try JSONDecoder().decode(BatchStatus.self, from: Data(json.utf8))
        #expect(status.state == "complete" && status.progress.recordsApplied == 3)
        #expect(status.progress.recordsNotApplied == nil && status.summary == nil && status.feed == nil)
    }
}
