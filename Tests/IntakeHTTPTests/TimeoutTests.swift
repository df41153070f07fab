import Foundation
import Testing

/// Connections that never finish their request are closed: half-sent headers after the header
/// timeout, a body that stops short of its Content-Length after the idle timeout.
@Suite(.serialized) struct TimeoutTests {
    @Test func halfSentHeadersAreCutOff() async throws {
        try await TestServer.start(headerTimeout: .seconds(1), idleTimeout: .seconds(600)).scoped { server in
            let connection = try RawConnection(port: server.port)
            connection.send("GET /health HTTP/1.1\r\nHost: x\r\n")
            let closed = try await connection.secondsUntilClosed(limit: 150)
            #expect(closed != nil)
            // The header timeout (1 s) closed it, not the idle timeout (600 s). The bound is loose on
            // purpose: with the whole suite running beside it on two cores, the close came after 5.3 s
            // once and after 18 s once (a CI run whose 15 s bound failed).
            #expect((closed ?? 999) < 120)
        }
    }

    @Test func aSilentConnectionIsCutOff() async throws {
        try await TestServer.start(headerTimeout: .seconds(1), idleTimeout: .seconds(600)).scoped { server in
            let connection = try RawConnection(port: server.port)
            // The header timeout (1 s) closes a connection that sends nothing, not the idle timeout
            // (600 s); loose as above (a run beside a release build took over 10 s).
            let closed = try await connection.secondsUntilClosed(limit: 150)
            #expect(closed != nil)
            #expect((closed ?? 999) < 120)
        }
    }

    @Test func aBodyShorterThanItsLengthIsCutOff() async throws {
        try await TestServer.start(headerTimeout: .seconds(600), idleTimeout: .seconds(1)).scoped { server in
            let connection = try RawConnection(port: server.port)
            connection.send(
                "POST /api/haplo-data-import-batch/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Basic \(Data("haplo:\(server.apiKey)".utf8).base64EncodedString())\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncontrol=abc"
            )
            let closed = try await connection.secondsUntilClosed(limit: 150)
            #expect(closed != nil)
            // The idle timeout (1 s) closed it, not the header timeout (600 s); the bound is loose for
            // the same reason as above.
            #expect((closed ?? 999) < 120)
        }
    }

    @Test func aSlowUploadThatKeepsProgressingIsNotCutOff() async throws {
        try await TestServer.start(headerTimeout: .seconds(1), idleTimeout: .seconds(2)).scoped { server in
            let client = BatchClient(server)
            let digest = try await client.uploadControl(Fixtures.examples.appendingPathComponent("control.json")).body
            let batch = try await client.createBatch(control: digest).body
            let data = try Fixtures.write("[" + Array(repeating: #"{"first":"A","last":"B"}"#, count: 12_000).joined(separator: ",") + "]")
            // About 300 KB at 100 KB/s: three seconds, longer than either timeout (never 2 s without bytes).
            let upload = try await Curl.run([
                "--limit-rate", "100K", "-X", "POST", "-F", "batch=\(batch)", "-F", "name=data0",
                "-F", "file=@\(data.path)", "--user", "haplo:\(server.apiKey)",
                "\(server.base)/api/haplo-data-import-batch/file"
            ])
            #expect(upload.status == 200)
        }
    }

    @Test func aCompleteRequestOnAFreshConnectionIsAnswered() async throws {
        try await TestServer.start(headerTimeout: .seconds(1), idleTimeout: .seconds(1)).scoped { server in
            let answer = try await Curl.run(["\(server.base)/health"])
            #expect(answer.body == "OK")
        }
    }
}

/// Uploads never hold up the threads that answer requests: while eight throttled uploads stream in
/// (and finish, with their syncs), `GET /health` keeps answering at once.
@Suite(.serialized) struct UploadConcurrencyTests {
    @Test func healthAnswersWhileEightSlowUploadsRun() async throws {
        try await TestServer.start().scoped { server in
            let client = BatchClient(server)
            let digest = try await client.uploadControl(Fixtures.examples.appendingPathComponent("control.json")).body
            let file = FileManager().temporaryDirectory.appendingPathComponent("slow-\(UUID().uuidString).json")
            try Data(repeating: 0x20, count: 3 << 20).write(to: file)
            defer { try? FileManager().removeItem(at: file) }
            var batches: [String] = []
            for _ in 0..<8 { batches.append(try await client.createBatch(control: digest).body) }
            let uploads = batches.map { batch in
                let arguments = [
                    "--limit-rate", "1M", "-X", "POST", "-F", "batch=\(batch)", "-F", "name=data0", "-F", "file=@\(file.path)",
                    "--user", "haplo:\(server.apiKey)", "\(server.base)/api/haplo-data-import-batch/file"
                ]
                return Task { try await Curl.run(arguments) }
            }
            try await Task.sleep(for: .milliseconds(300))
            var times: [Double] = []
            for _ in 0..<20 {
                let connection = try RawConnection(port: server.port)
                connection.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                times.append(try await connection.secondsUntilClosed(limit: 5) ?? 5)
                try await Task.sleep(for: .milliseconds(100))
            }
            for upload in uploads { #expect(try await upload.value.status == 200) }
            // A request that waited for an upload would take seconds: each upload lasts three. The test
            // suite runs beside this test on the same two cores, bcrypt checks of the admin UI's tests
            // among it, so answers can be slow for reasons that have nothing to do with uploads: one CI
            // run saw 2.4 s for one of twenty, another 1.0 to 1.7 s for four of twenty with a median of
            // 0.4 s. The bounds are set between that and what waiting for uploads would cost: most
            // answers well under an upload's time, hardly any near it, none as long as five seconds.
            let median = times.sorted()[times.count / 2]
            #expect(median < 1, "GET /health took \(Int(median * 1000)) ms (median) during the uploads: \(times)")
            let late = times.filter { $0 >= 2.5 }
            #expect(late.count <= 3, "\(late.count) of \(times.count) GET /health took 2.5 s or more: \(times)")
            #expect(times.max()! < 5, "a GET /health was not answered within 5 s during the uploads: \(times)")
        }
    }
}
