#!/usr/bin/env python3
"""Client half of scripts/bench-mcp: bash `true` via MCP Streamable HTTP vs POST .../sandbox/bash.

Both sides use httpx with one keep-alive connection, read the whole reply and parse its JSON, so the
difference is what the server does for MCP (JSON-RPC, the session's SDK server and transport, text
rendering) on top of the same call pipeline. A call without a progressToken is answered as one JSON
body; one with a token as an SSE stream (its progress, then the reply): both are measured. Calls rotate,
so all see the same load.
"""
import asyncio, json, statistics, sys, time, uuid

import httpx

BASE, KEY, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
AGENT = str(uuid.uuid4())
MCP_URL = f"{BASE}/v1/agents/{AGENT}/mcp"
HEADERS = {"x-api-key": KEY, "accept": "application/json, text/event-stream", "content-type": "application/json"}


def reply_message(reply):
    """The JSON-RPC reply: the body (application/json) or the last SSE message (text/event-stream)."""
    if reply.headers["content-type"].startswith("application/json"):
        return reply.json()
    data = [line[5:].strip() for line in reply.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    return json.loads(data[-1])


def open_session(client):
    reply = client.post(MCP_URL, headers=HEADERS, content=json.dumps({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}))
    session = reply.headers["mcp-session-id"]
    headers = {**HEADERS, "mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
    client.post(MCP_URL, headers=headers, content=json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    return headers


def summary(label, samples):
    samples = sorted(samples)
    median = statistics.median(samples)
    p90 = samples[int(len(samples) * 0.9) - 1]
    print(f"  {label:<44} median {median * 1000:7.3f} ms   p90 {p90 * 1000:7.3f} ms   (n={len(samples)})")
    return median, p90


def main():
    rest_client = httpx.Client(timeout=60)
    mcp_client = httpx.Client(timeout=60)
    headers = open_session(mcp_client)
    rest_url = f"{BASE}/v1/agents/{AGENT}/sandbox/bash"
    body = json.dumps({"command": "true"})
    rpc_id = 0

    def rest_call():
        reply = rest_client.post(rest_url, headers={"x-api-key": KEY, "content-type": "application/json"}, content=body)
        assert reply.json()["exit_code"] == 0

    def mcp_call(progress=False):
        nonlocal rpc_id
        rpc_id += 1
        params = {"name": "bash", "arguments": {"command": "true"}}
        if progress:
            params["_meta"] = {"progressToken": rpc_id}
        reply = mcp_client.post(MCP_URL, headers=headers, content=json.dumps({
            "jsonrpc": "2.0", "id": rpc_id, "method": "tools/call", "params": params}))
        assert reply.headers["content-type"].startswith("text/event-stream" if progress else "application/json")
        message = reply_message(reply)
        assert message["id"] == rpc_id and message["result"]["structuredContent"]["exit_code"] == 0, message

    def mcp_sse_call():
        mcp_call(progress=True)

    for _ in range(30):
        rest_call(); mcp_call(); mcp_sse_call()
    rest, mcp, sse = [], [], []
    calls = [(rest_call, rest), (mcp_call, mcp), (mcp_sse_call, sse)]
    for i in range(N):
        for call, samples in calls[i % 3:] + calls[:i % 3]:
            started = time.perf_counter()
            call()
            samples.append(time.perf_counter() - started)
    print(f"bash true, {N} calls each, interleaved, Python httpx for all:")
    rest_median, rest_p90 = summary("POST /v1/agents/{id}/sandbox/bash (baseline)", rest)
    mcp_median, mcp_p90 = summary("MCP tools/call (JSON reply)", mcp)
    sse_median, sse_p90 = summary("MCP tools/call with progressToken (SSE reply)", sse)
    print(f"  ratio MCP / baseline: median {mcp_median / rest_median:.2f}x, p90 {mcp_p90 / rest_p90:.2f}x (target <= 1.3x)")
    print(f"  ratio MCP (SSE) / baseline: median {sse_median / rest_median:.2f}x, p90 {sse_p90 / rest_p90:.2f}x")
    asyncio.run(official_client(max(N // 5, 20), rest_call))


async def official_client(n, rest_call):
    """For information: the official mcp client (its own Python cost included), beside the baseline."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    http = create_mcp_http_client(headers={"x-api-key": KEY})
    async with http, Client(streamable_http_client(MCP_URL, http_client=http), mode="legacy") as client:
        for _ in range(10):
            await client.call_tool("bash", {"command": "true"})
        samples, base = [], []
        for _ in range(n):
            started = time.perf_counter()
            await client.call_tool("bash", {"command": "true"})
            samples.append(time.perf_counter() - started)
            started = time.perf_counter()
            rest_call()
            base.append(time.perf_counter() - started)
    print(f"for information, the official mcp client ({n} calls; its pydantic/anyio cost is on the client):")
    summary("httpx POST .../sandbox/bash", base)
    summary("mcp.Client.call_tool('bash')", samples)


if __name__ == "__main__":
    main()
