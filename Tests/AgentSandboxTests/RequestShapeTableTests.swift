import Foundation
import Testing

/// Every route that takes a JSON body, sent a malformed body, a field of the wrong type and a missing
/// required field: each answers a 400 envelope (`INVALID_REQUEST`) whose sentence names the field — never a
/// Swift decoder dump, never a 500. One pipeline validates them all, so one table checks them all.
@Suite(.enabled(if: isRoot, "needs root to switch uids"))
struct RequestShapeTableTests {
    /// A route, a body with a wrong-typed field (and that field's name), and one missing a required field.
    struct Case: Sendable, CustomStringConvertible {
        let path: String
        let wrongType: [String: any Sendable]
        let wrongField: String
        let missing: [String: any Sendable]?
        let missingField: String?
        var description: String { path }
    }

    static let agentPlaceholder = "{agent}"
    static let sessionPlaceholder = "{session}"

    static let cases: [Case] = {
        let a = agentPlaceholder
        var cases: [Case] = []
        for family in ["sandbox", "workspace"] {
            cases += [
                Case(path: "/v1/agents/\(a)/\(family)/bash", wrongType: ["command": "true", "timeout": "soon"], wrongField: "timeout", missing: ["timeout": 5], missingField: "command"),
                Case(path: "/v1/agents/\(a)/\(family)/file_read", wrongType: ["path": 7], wrongField: "path", missing: [:], missingField: "path"),
                Case(path: "/v1/agents/\(a)/\(family)/file_write", wrongType: ["path": "a.txt", "content": ["x"]], wrongField: "content", missing: ["path": "a.txt"], missingField: "content"),
                Case(path: "/v1/agents/\(a)/\(family)/file_edit", wrongType: ["path": "a.txt", "old_text": "a", "new_text": "b", "replace_all": "yes"], wrongField: "replace_all", missing: ["path": "a.txt", "new_text": "b"], missingField: "old_text"),
                Case(path: "/v1/agents/\(a)/\(family)/multi_edit", wrongType: ["edits": "all of them"], wrongField: "edits", missing: [:], missingField: "edits"),
                Case(path: "/v1/agents/\(a)/\(family)/glob", wrongType: ["pattern": "*", "max_results": "many"], wrongField: "max_results", missing: [:], missingField: "pattern"),
                Case(path: "/v1/agents/\(a)/\(family)/grep", wrongType: ["pattern": "x", "context_lines": [1]], wrongField: "context_lines", missing: ["path": ""], missingField: "pattern"),
                Case(path: "/v1/agents/\(a)/\(family)/file_share", wrongType: ["path": "a.txt", "expires_in": "soon"], wrongField: "expires_in", missing: [:], missingField: "path"),
            ]
        }
        cases += [
            Case(path: "/v1/agents/\(a)/tools/call", wrongType: ["name": 5, "input": [:] as [String: String]], wrongField: "name", missing: ["input": ["command": "true"]], missingField: "name"),
            Case(path: "/v1/agents/\(a)/exec", wrongType: ["command": "true", "background": "yes"], wrongField: "background", missing: [:], missingField: "command"),
            Case(path: "/v1/agents/\(a)/exec/\(sessionPlaceholder)/wait", wrongType: ["timeout": "a"], wrongField: "timeout", missing: nil, missingField: nil),
            Case(path: "/v1/agents/\(a)/exec/\(sessionPlaceholder)/stdin", wrongType: ["data": 12], wrongField: "data", missing: nil, missingField: nil),
            Case(path: "/v1/agents/\(a)/exec/\(sessionPlaceholder)/kill", wrongType: ["signal": ["TERM"]], wrongField: "signal", missing: nil, missingField: nil),
            Case(path: "/v1/agents", wrongType: ["agent_id": 12], wrongField: "agent_id", missing: nil, missingField: nil),
        ]
        return cases
    }()

    @Test(arguments: cases)
    func malformedWrongTypedAndMissingFieldsAre400NamingTheField(_ route: Case) async throws {
        let server = try await TestServer.shared.get()
        let agent = newAgent()
        var path = route.path.replacingOccurrences(of: Self.agentPlaceholder, with: agent)
        if path.contains(Self.sessionPlaceholder) {
            let started = try await server.post("/v1/agents/\(agent)/exec", json: ["command": "sleep 30", "background": true, "keep_stdin_open": true])
            let session = try #require(started.string("session_id"), "\(started.text)")
            path = path.replacingOccurrences(of: Self.sessionPlaceholder, with: session)
        }
        let malformed = try await server.request("POST", path, body: Data("{\"command\": ".utf8))
        expect400(malformed, naming: "JSON", route)

        let wrong = try await server.post(path, json: route.wrongType)
        expect400(wrong, naming: "`\(route.wrongField)`", route)

        if let missing = route.missing, let field = route.missingField {
            let reply = try await server.post(path, json: missing)
            expect400(reply, naming: "`\(field)`", route)
        }
    }

    private func expect400(_ reply: TestServer.Reply, naming word: String, _ route: Case) {
        #expect(reply.status == 400, "\(route.path): \(reply.status) \(reply.text)")
        #expect(reply.string("status") == "error", "\(route.path): \(reply.text)")
        #expect(reply.string("error_code") == "INVALID_REQUEST", "\(route.path): \(reply.text)")
        let sentence = reply.string("error") ?? ""
        #expect(sentence.contains(word), "\(route.path): the error should name \(word): \(sentence)")
        for dump in ["DecodingError", "keyNotFound", "typeMismatch", "CodingKeys", "Debug description"] {
            #expect(!sentence.contains(dump), "\(route.path): a decoder dump reached the client: \(sentence)")
        }
    }
}
