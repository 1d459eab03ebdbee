import AgentSandbox
import Foundation
import Hummingbird
import NIOCore

/// The terminal: `POST /v1/agents/{id}/exec-token` (mint a token), `POST …/exec/{sid}/resize`,
/// `GET /v1/agents/{id}/terminal` (the WebSocket, `TerminalWebSocket`; this handler answers only when
/// no upgrade happened: why the token was refused, or that the route speaks WebSocket), and the web
/// terminal `GET /terminal` with its files `GET /terminal/{file}` (xterm.js, vendored by `scripts/setup`
/// into `vendor/xterm/`; nothing is fetched from elsewhere).
struct TerminalRoutes: Sendable {
    let exec: ExecService
    /// Where the web terminal's files are (`vendor/xterm/` of the repository).
    let assets: URL

    static let files: [String: String] = [
        "xterm.js": "application/javascript; charset=utf-8",
        "xterm.css": "text/css; charset=utf-8",
    ]

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/agents/:agent_id/exec-token") { request, context in
            let agent = try AgentID(context.parameters.get("agent_id") ?? "")
            let input = try await request.jsonBody(limit: 1 << 20, emptyIsObject: true)
            return Response.json(try await exec.mintToken(agent, input: input, entry: .terminal), headers: [.cacheControl: "no-store"])
        }
        router.post("/v1/agents/:agent_id/exec/:session_id/resize") { request, context in
            let (agent, id) = try ExecSessionRoutes.ids(context)
            let input = try await request.jsonBody(limit: 64 << 10, emptyIsObject: true)
            return Response.json(try await exec.resize(agent, session: id, input: input, entry: .exec))
        }
        router.get("/v1/agents/:agent_id/terminal") { request, context -> Response in
            let agent = try AgentID(context.parameters.get("agent_id") ?? "")
            let query = request.uri.query.map { Substring($0) }
            let token = TerminalWebSocket.queryValue("token", in: query) ?? TerminalWebSocket.offeredProtocols(request.headers)
                .first { $0.hasPrefix(TerminalWebSocket.tokenProtocolPrefix) }.map { String($0.dropFirst(TerminalWebSocket.tokenProtocolPrefix.count)) }
            throw exec.terminalRefusal(agent, token: token, session: TerminalWebSocket.queryValue("session_id", in: query))
        }
        router.get("/terminal") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: TerminalPage.html)))
        }
        let fileIO = FileIO()
        router.get("/terminal/:file") { _, context in
            let name = context.parameters.get("file") ?? ""
            guard let type = Self.files[name] else {
                throw ToolError(.notFound, "No such file under /terminal. The web terminal is GET /terminal#token=…&agent=….")
            }
            let path = assets.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path) else {
                throw ToolError(.notFound, "The web terminal's \(name) is not installed in \(assets.path): run scripts/setup (it vendors xterm.js from Debian's node-xterm).")
            }
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600"], body: try await fileIO.loadFile(path: path, context: context))
        }
    }

    /// Whether `request` is for the terminal route and carries an exec token (then no API key is needed:
    /// the token is checked instead).
    static func presentsToken(_ request: Request) -> Bool {
        guard request.method == .get || request.method == .head, TerminalWebSocket.parse(request.uri.path) != nil else { return false }
        if let token = TerminalWebSocket.queryValue("token", in: request.uri.query.map { Substring($0) }), !token.isEmpty { return true }
        return TerminalWebSocket.offeredProtocols(request.headers).contains { $0.hasPrefix(TerminalWebSocket.tokenProtocolPrefix) }
    }

    /// `vendor/xterm/` of the repository (beside `schemas/`), or `AGENT_SANDBOX_TERMINAL_ASSETS`.
    static func assetDirectory(schemaDirectory: URL) -> URL {
        if let path = ProcessInfo.processInfo.environment["AGENT_SANDBOX_TERMINAL_ASSETS"] { return URL(fileURLWithPath: path, isDirectory: true) }
        return schemaDirectory.deletingLastPathComponent().appendingPathComponent("vendor/xterm", isDirectory: true)
    }
}
