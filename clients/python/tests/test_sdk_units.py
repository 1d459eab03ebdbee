"""Client-side pieces that need no server: the SSE parser under arbitrary chunking, the retry policy (only
safe calls are retried), and reading tool calls from the official SDKs' objects."""
import base64
import json

import httpx
import pytest

from agentsandbox import APIConnectionError, Client, ServerError
from agentsandbox._sse import SSEParser
from agentsandbox.tool_calls import parse_calls

STREAM = (
    b": session sess_1\n\n"
    b"id: 1\nevent: stdout\ndata: " + base64.b64encode(b"hello\r\n\xff") + b"\n\n"
    b": keep-alive\n\n"
    b"event: dropped\ndata: {\"stream\":\"stderr\",\"dropped_bytes\":42}\n\n"
    b"id: 2\r\nevent: stderr\r\ndata: " + base64.b64encode(b"oops") + b"\r\n\r\n"
    b"id: 3\nevent: exit\ndata: {\"exit_code\":null,\"signal\":\"SIGKILL\",\"timed_out\":true}\n\n"
)


@pytest.mark.parametrize("size", [1, 2, 7, 64, len(STREAM)])
def test_sse_parser_gives_the_same_events_for_any_chunking(size):
    parser = SSEParser()
    events = []
    for start in range(0, len(STREAM), size):
        events += parser.feed(STREAM[start:start + size])
    assert [(e.type, e.id) for e in events] == [("stdout", 1), ("dropped", None), ("stderr", 2), ("exit", 3)]
    assert events[0].data == b"hello\r\n\xff" and events[2].data == b"oops"
    assert events[1].stream == "stderr" and events[1].dropped_bytes == 42
    assert events[3].exit.signal == "SIGKILL" and events[3].exit.timed_out and not events[3].exit.ok


def test_sse_parser_joins_text_mode_data_lines_with_lf():
    [event] = SSEParser(base64=False).feed(b"id: 4\nevent: stdout\ndata: a\ndata: b\ndata: \n\n")
    assert event.data == b"a\nb\n"


def counting_client(status, **options):
    seen = []

    def handler(request):
        if request.method == "POST" and request.url.path == "/v1/agents":
            return httpx.Response(201, json={"agent_id": "6f1e0b6e-1111-4222-8333-444455556666", "state": "active"})
        seen.append(request.method)
        return httpx.Response(status, json={"status": "error", "error": "busy", "error_code": "INTERNAL_ERROR"})

    http = httpx.Client(base_url="http://sandbox.test", transport=httpx.MockTransport(handler))
    return Client("http://sandbox.test", "k", http_client=http, **options), seen


def test_gets_are_retried_on_503_but_tool_calls_are_not(monkeypatch):
    monkeypatch.setattr("agentsandbox._transport.retry_delay", lambda attempt: 0)
    client, seen = counting_client(503, max_retries=2)
    with pytest.raises(ServerError) as caught:
        client.agents.list()
    assert seen == ["GET"] * 3 and caught.value.status_code == 503
    seen.clear()
    with pytest.raises(ServerError):
        client.agent("6f1e0b6e-1111-4222-8333-444455556666").files.write("a", "b")
    assert seen == ["POST"]


def test_an_unreachable_server_is_a_connection_error(monkeypatch):
    monkeypatch.setattr("agentsandbox._transport.retry_delay", lambda attempt: 0)
    with Client("http://127.0.0.1:9", "k", max_retries=1) as client, pytest.raises(APIConnectionError):
        client.agents.list()


class Block:
    """Stands in for an official SDK object (pydantic models expose model_dump)."""

    def __init__(self, **fields):
        self.fields = fields

    def model_dump(self):
        return self.fields


def test_tool_calls_are_read_from_sdk_objects_and_messages():
    anthropic = Block(role="assistant", content=[Block(type="text", text="hm"),
                                                 Block(type="tool_use", id="tu", name="glob", input={"pattern": "*"})])
    [call] = parse_calls(anthropic)
    assert (call.format, call.id, call.name, call.input) == ("anthropic", "tu", "glob", {"pattern": "*"})
    chat = Block(role="assistant", content=None, tool_calls=[
        Block(id="c1", type="function", function={"name": "bash", "arguments": json.dumps({"command": "ls"})})])
    [call] = parse_calls(chat)
    assert (call.format, call.id, call.input) == ("openai", "c1", {"command": "ls"})
    [call] = parse_calls([{"type": "function_call", "id": "fc", "call_id": "call_9", "name": "grep",
                           "arguments": "[1]"}])
    assert call.format == "responses" and call.id == "call_9" and "JSON object" in call.problem
