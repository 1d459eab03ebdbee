import AgentSandbox
import Foundation
import Testing
import Tools

/// The published schemas are the contract: every tool has one, the server serves exactly them,
/// and the envelope schema lists the core keys the encoder writes.
struct SchemaContractTests {
    let catalog = try! SchemaCatalog(directory: TestServer.repositoryRoot.appendingPathComponent("schemas"))

    @Test func everyRegisteredToolHasASchemaNamedAfterIt() {
        for name in StandardTools.registry().names {
            #expect(catalog.tools[name]?["title"] == .string(name), "schemas/tools/\(name).json")
        }
        #expect(Set(catalog.tools.keys) == Set(StandardTools.registry().names), "no schema without a tool")
    }

    @Test func envelopeSchemaRequiresTheCoreKeysTheEncoderWrites() throws {
        let required = catalog.envelope["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(Set(required) == Set(Envelope.coreKeys))
        let encoded = try JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(Envelope())) as? [String: Any]
        #expect(Set(encoded?.keys.map { $0 } ?? []) == Set(Envelope.coreKeys))
    }

    @Test(.enabled(if: isRoot)) func servedDefinitionsAreThePublishedFiles() async throws {
        let server = try await TestServer.shared.get()
        let reply = try await server.request("GET", "/v1/tools?format=anthropic")
        let tools = try #require(reply.json["tools"] as? [[String: Any]])
        for tool in tools {
            let name = try #require(tool["name"] as? String)
            let published = try #require(catalog.tools[name])
            let properties = (tool["input_schema"] as? [String: Any])?["properties"] as? [String: Any]
            #expect(Set(properties?.keys.map { $0 } ?? []) == Set(published["properties"]?.objectValue?.keys.map { $0 } ?? []))
        }
        let openai = try await server.request("GET", "/v1/tools?format=openai")
        #expect((openai.json["tools"] as? [[String: Any]])?.first?["type"] as? String == "function")
    }
}
