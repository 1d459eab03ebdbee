#!/usr/bin/env python3
"""Client half of scripts/bench-xpander: mcp_call_tool warm vs cold on one keep-alive connection.

The MCP server is plain Python over stdin/stdout (the sandbox's python3 has no `mcp` package); it answers
initialize, tools/list and tools/call `echo`.
"""
import http.client, json, statistics, sys, time

PORT, KEY = int(sys.argv[1]), sys.argv[2]
AGENT = "7c0a3e52-4b1d-4f7e-9d1a-2e6b8f0c4a11"
SERVER = r'''
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("id") is None: continue
    if m["method"] == "initialize":
        r = {"protocolVersion": m["params"]["protocolVersion"], "capabilities": {"tools": {}}, "serverInfo": {"name": "b", "version": "1"}}
    elif m["method"] == "tools/list":
        r = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}
    else:
        r = {"content": [{"type": "text", "text": json.dumps(m["params"].get("arguments"))}]}
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": r}) + "\n"); sys.stdout.flush()
'''
connection = http.client.HTTPConnection("127.0.0.1", PORT)


def call(tool, body):
    data = json.dumps(body).encode()
    started = time.perf_counter()
    connection.request("POST", f"/workspace/{AGENT}/tools/{tool}", data, {"x-api-key": KEY, "Content-Type": "application/json"})
    reply = connection.getresponse()
    payload = json.loads(reply.read())
    elapsed = (time.perf_counter() - started) * 1000
    if reply.status != 200 or payload.get("is_error") or payload.get("status") == "error":
        sys.exit(f"{tool} failed: {reply.status} {payload}")
    return elapsed


def report(label, samples):
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"  {label:<44} p50 {statistics.median(samples):8.2f} ms   p99 {p99:8.2f} ms   (n={len(samples)})")
    return statistics.median(samples)


call("file_write", {"path": "bench_mcp.py", "content": SERVER})
call("bash", {"command": "true"})  # the agent's warm sandbox exists before anything is timed
base = {"command": "python3 bench_mcp.py", "env_vars": {}, "tool": "echo", "arguments": {"x": 1}, "timeout": 30}
COLD, WARM = 30, 300
reference = [call("bash", {"command": "true"}) for _ in range(WARM)]
cold = [call("mcp_call_tool", dict(base, name=f"cold-{i}")) for i in range(COLD)]  # a new key: a new server each
call("mcp_call_tool", dict(base, name="warm"))  # start it once
warm = [call("mcp_call_tool", dict(base, name="warm")) for _ in range(WARM)]
print("mcp_call_tool through POST /workspace/{agent}/tools/mcp_call_tool:")
f = report("reference: bash `true` on the same route", reference)
c = report("cold: start server + initialize + tools/call", cold)
w = report("warm: tools/call on the running server", warm)
print(f"  warm is {c / w:.1f}x faster than cold at p50 (a bash `true` call, which spawns one process: {f:.2f} ms)")
