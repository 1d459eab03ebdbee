"""MCP over Streamable HTTP (`/v1/agents/{id}/mcp`) with the official Python client."""
import contextlib
import json

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from mcp_cases import McpCases

@pytest.mark.asyncio
class TestMcpOverHttp(McpCases):
    @pytest.fixture(autouse=True)
    def _server(self, base_url, api_key):
        self.base_url, self.api_key = base_url, api_key

    def connect(self, agent_id, headers=None):
        @contextlib.asynccontextmanager
        async def connected():
            http = create_mcp_http_client(headers=headers or {"Authorization": f"Bearer {self.api_key}"})
            async with http, Client(streamable_http_client(f"{self.base_url}/v1/agents/{agent_id}/mcp", http_client=http)) as client:
                yield client
        return connected()

    async def test_the_x_api_key_header_works_too(self, agent_id):
        async with self.connect(agent_id, headers={"x-api-key": self.api_key}) as client:
            result = await client.call_tool("bash", {"command": "echo keyed"})
        assert "keyed" in result.content[0].text


def post(base_url, agent_id, body, **headers):
    return httpx.post(f"{base_url}/v1/agents/{agent_id}/mcp", json=body, headers={
        "accept": "application/json, text/event-stream", **headers}, timeout=30)


def initialize(agent_id, version="2025-11-25"):
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}


def test_without_a_key_it_is_401(base_url, agent_id):
    assert post(base_url, agent_id, initialize(agent_id)).status_code == 401


def test_a_session_belongs_to_its_agent_and_ends_with_delete(base_url, api_key, agent_id):
    opened = post(base_url, agent_id, initialize(agent_id), **{"x-api-key": api_key})
    assert opened.status_code == 200 and opened.headers["content-type"].startswith("application/json")
    assert opened.json()["result"]["serverInfo"]["name"] == "agent-sandbox"
    session = opened.headers["mcp-session-id"]
    other = "00000000-0000-4000-8000-000000000001"
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    assert post(base_url, other, ping, **{"x-api-key": api_key, "mcp-session-id": session}).status_code == 404
    assert post(base_url, agent_id, ping, **{"x-api-key": api_key, "mcp-session-id": session}).status_code == 200
    ended = httpx.delete(f"{base_url}/v1/agents/{agent_id}/mcp", headers={"x-api-key": api_key, "mcp-session-id": session})
    assert ended.status_code == 200
    assert post(base_url, agent_id, ping, **{"x-api-key": api_key, "mcp-session-id": session}).status_code == 404


def test_a_foreign_browser_origin_is_refused(base_url, api_key, agent_id):
    refused = post(base_url, agent_id, initialize(agent_id), **{"x-api-key": api_key, "origin": "http://evil.example"})
    assert refused.status_code == 403
    local = post(base_url, agent_id, initialize(agent_id), **{"x-api-key": api_key, "origin": "http://localhost:3000"})
    assert local.status_code == 200


def test_an_unsupported_protocol_version_header_is_400(base_url, api_key, agent_id):
    opened = post(base_url, agent_id, initialize(agent_id), **{"x-api-key": api_key})
    session = opened.headers["mcp-session-id"]
    reply = post(base_url, agent_id, {"jsonrpc": "2.0", "id": 2, "method": "ping"},
                 **{"x-api-key": api_key, "mcp-session-id": session, "mcp-protocol-version": "1999-01-01"})
    assert reply.status_code == 400


def test_the_stateless_handshake_gets_a_clean_error_to_fall_back_from(base_url, api_key, agent_id):
    reply = post(base_url, agent_id, {"jsonrpc": "2.0", "id": 7, "method": "server/discover", "params": {}},
                 **{"x-api-key": api_key, "mcp-protocol-version": "2026-07-28"})
    body = reply.json()
    assert body["id"] == 7 and body["error"]["code"] == -32601


def test_a_call_with_a_progress_token_streams_progress_then_the_reply(base_url, api_key, agent_id):
    opened = post(base_url, agent_id, initialize(agent_id), **{"x-api-key": api_key})
    headers = {"x-api-key": api_key, "mcp-session-id": opened.headers["mcp-session-id"]}
    call = {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
        "name": "bash", "arguments": {"command": "sleep 1.6; echo slow"}, "_meta": {"progressToken": "t5"}}}
    reply = post(base_url, agent_id, call, **headers)
    assert reply.headers["content-type"].startswith("text/event-stream")
    messages = [json.loads(line[5:]) for line in reply.text.splitlines() if line.startswith("data:")]
    assert messages[0]["method"] == "notifications/progress" and messages[0]["params"]["progressToken"] == "t5"
    assert messages[-1]["id"] == 5 and messages[-1]["result"]["structuredContent"]["stdout"] == "slow\n"
