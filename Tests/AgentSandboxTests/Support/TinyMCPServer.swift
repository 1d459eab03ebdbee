import Foundation

/// A stdio MCP server for the tests, in plain Python (the sandbox's python3 is Debian's, without the
/// `mcp` package): newline-delimited JSON-RPC on stdin/stdout, which is all the protocol's stdio
/// transport is. Tools: `whoami` (pid, uid, a token drawn at start-up, `$GREETING`), `add`, `fail`.
enum TinyMCPServer {
    static let fileName = "tiny_mcp.py"

    static let source = #"""
import json, os, sys

TOKEN = os.urandom(8).hex()
sys.stderr.write("tiny mcp server starting\n")
sys.stderr.flush()

def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()

TOOLS = [
    {"name": "whoami", "description": "Who runs this server", "inputSchema": {"type": "object", "properties": {}}},
    {"name": "add", "description": "Adds a and b", "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}},
    {"name": "fail", "description": "Always fails", "inputSchema": {"type": "object"}},
]

for line in sys.stdin:
    if not line.strip():
        continue
    message = json.loads(line)
    ident, method = message.get("id"), message.get("method")
    if ident is None:
        continue
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": ident, "result": {"protocolVersion": message["params"]["protocolVersion"],
              "capabilities": {"tools": {}}, "serverInfo": {"name": "tiny", "version": "1"}}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": ident, "result": {"tools": TOOLS}})
    elif method == "tools/call":
        name, args = message["params"]["name"], message["params"].get("arguments") or {}
        if name == "whoami":
            text = json.dumps({"pid": os.getpid(), "uid": os.getuid(), "token": TOKEN, "greeting": os.environ.get("GREETING")})
            send({"jsonrpc": "2.0", "id": ident, "result": {"content": [{"type": "text", "text": text}]}})
        elif name == "add":
            send({"jsonrpc": "2.0", "id": ident, "result": {"content": [{"type": "text", "text": str(args["a"] + args["b"])}],
                  "structuredContent": {"sum": args["a"] + args["b"]}}})
        elif name == "fail":
            send({"jsonrpc": "2.0", "id": ident, "result": {"content": [{"type": "text", "text": "it failed"}], "isError": True}})
        else:
            send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32602, "message": "Unknown tool: " + name}})
    else:
        send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32601, "message": "Method not found"}})
"""#

    /// Writes the server into the agent's workspace through xpander's route; returns its `command`.
    static func install(on server: TestServer, agent: String) async throws -> String {
        let reply = try await server.post("/workspace/\(agent)/tools/file_write", json: ["path": fileName, "content": source])
        guard reply.status == 200 else { throw TestFailure("install failed: \(reply.text)") }
        return "python3 \(fileName)"
    }
}
