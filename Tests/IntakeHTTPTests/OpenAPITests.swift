import Foundation
import Hummingbird
import IntakeCore
import IntakeRunner
import IntakeSQLite
import IntakeStore
import Testing

@testable import IntakeHTTP

/// The OpenAPI document is served as committed, and it and the router agree on every path and
/// operation, so neither can grow an endpoint the other does not have.
@Suite struct OpenAPITests {
    static var committed: String {
        get throws {
            try String(contentsOf: Fixtures.examples.deletingLastPathComponent().appendingPathComponent("docs/openapi.json"), encoding: .utf8)
        }
    }

    @Test func theServedDocumentIsTheCommittedOne() async throws {
        try await TestServer.start().scoped { server in
            let served = try await Curl.run(["\(server.base)/api/openapi.json"])
            #expect(served.status == 200)
            #expect(served.body == (try Self.committed).trimmingCharacters(in: .newlines))
            let document = try JSONSerialization.jsonObject(with: Data(served.body.utf8)) as? [String: Any]
            #expect(document?["openapi"] as? String == "3.1.0")
            #expect((document?["info"] as? [String: Any])?["version"] as? String == IntakeVersion.current)
        }
    }

    @Test func theDocumentAndTheRouterHaveTheSameEndpoints() async throws {
        let directory = try TestServer.makeDirectory()
        let environment = ImportEnvironment(
            store: try SQLiteBatchStore(path: directory.appendingPathComponent("intake.sqlite").path),
            blobs: try LocalBlobStorage(root: directory.appendingPathComponent("blobs")),
            models: ModelRegistry(schema: StandardSchema.make()))
        let router = buildRouter(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0), environment: environment, logger: .init(label: "test"))
        // The router's paths, written as OpenAPI writes them (`:ref` → `{ref}`).
        let routed = Dictionary(grouping: router.routes) { route in
            route.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                .joined(separator: "/")
        }.mapValues { Set($0.map { $0.method.rawValue.lowercased() }) }
        let document = try #require(try JSONSerialization.jsonObject(with: Data(Self.committed.utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        #expect(Set(paths.keys) == Set(routed.keys.map { "/" + $0 }), "paths differ")
        for (path, operations) in paths {
            for method in operations.keys {
                #expect(routed[String(path.dropFirst())]?.contains(method) == true, "\(method) \(path) is documented but not routed")
            }
        }
        // Every documented operation answers something other than 404 or 405.
        try await TestServer.start().scoped { server in
            for (path, operations) in paths {
                let concrete = path.replacingOccurrences(of: #"\{[a-z]+\}"#, with: "x", options: .regularExpression)
                for method in operations.keys {
                    let answer = try await Curl.run(["-X", method.uppercased(), "\(server.base)\(concrete)"])
                    #expect(![404, 405].contains(answer.status) || concrete.contains("/x"), "\(method) \(path): \(answer.status)")
                }
            }
        }
    }
}
