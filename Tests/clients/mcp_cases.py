"""MCP scenarios run with the official Python `mcp` client over each transport (HTTP and stdio).

A test module subclasses `McpCases` and provides `connect(agent_id)`: an async context manager that
yields a connected `mcp.Client`. Everything here goes through the live server that
scripts/test-clients started.
"""
import base64
import json
import pathlib
import time

import anyio

EIGHT_TOOLS = {"bash", "file_read", "file_write", "file_edit", "multi_edit", "glob", "grep", "file_share"}
EXEC_TOOLS = {"exec_start", "exec_output", "exec_kill"}
SCHEMAS = pathlib.Path(__file__).resolve().parents[2] / "schemas"


def text_of(result) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


class McpCases:
    def connect(self, agent_id):  # pragma: no cover - provided by subclasses
        raise NotImplementedError

    async def test_initialize_and_list_the_published_tools(self, agent_id, http):
        async with self.connect(agent_id) as client:
            listed = await client.list_tools()
        tools = {tool.name: tool for tool in listed.tools}
        assert set(tools) == EIGHT_TOOLS | EXEC_TOOLS
        # One source: the eight as GET /v1/tools publishes them, the session tools as schemas/mcp/ has them.
        published = {t["name"]: t for t in http.get("/v1/tools?format=anthropic").json()["tools"]}
        for name in EIGHT_TOOLS:
            assert tools[name].description == published[name]["description"]
            assert tools[name].input_schema == published[name]["input_schema"]
        for name in EXEC_TOOLS:
            with open(SCHEMAS / "mcp" / f"{name}.json") as file:
                schema = json.load(file)
            assert tools[name].description == schema["description"]
            assert tools[name].input_schema["properties"] == schema["properties"]

    async def test_bash_answers_with_text_and_the_envelope(self, agent_id):
        async with self.connect(agent_id) as client:
            result = await client.call_tool("bash", {"command": "echo out; echo err >&2; exit 3"})
        assert not result.is_error
        text = text_of(result)
        assert "out" in text and "err" in text and "Exit code: 3" in text
        envelope = result.structured_content
        assert envelope["status"] == "ok" and envelope["exit_code"] == 3
        assert envelope["stdout"] == "out\n" and envelope["stderr"] == "err\n"

    async def test_file_write_then_file_read_and_grep(self, agent_id):
        async with self.connect(agent_id) as client:
            wrote = await client.call_tool("file_write", {"path": "notes/a.txt", "content": "alpha\nneedle here\nomega\n"})
            assert not wrote.is_error and "notes/a.txt" in text_of(wrote)
            read = await client.call_tool("file_read", {"path": "notes/a.txt"})
            assert text_of(read) == "alpha\nneedle here\nomega\n"
            assert read.structured_content["content"] == "alpha\nneedle here\nomega\n"
            found = await client.call_tool("grep", {"pattern": "needle"})
        assert "notes/a.txt:2:needle here" in text_of(found)
        assert found.structured_content["total_matches"] == 1

    async def test_a_tool_failure_is_is_error_with_the_sentence(self, agent_id):
        async with self.connect(agent_id) as client:
            result = await client.call_tool("file_read", {"path": "missing.txt"})
            bad_input = await client.call_tool("bash", {})
        assert result.is_error
        assert result.structured_content["error_code"] == "FILE_NOT_FOUND"
        assert text_of(result).startswith("Error [FILE_NOT_FOUND]: ") and result.structured_content["error"] in text_of(result)
        assert bad_input.is_error and "command" in text_of(bad_input)

    async def test_cancellation_kills_the_calls_process_tree(self, agent_id):
        async with self.connect(agent_id) as client:
            started = time.monotonic()
            with anyio.move_on_after(1.5):
                await client.call_tool("bash", {"command": "sleep 4.5 & wait; touch cancelled-marker"})
            assert time.monotonic() - started < 3, "the cancelled call returned at once"
            await anyio.sleep(4.5)  # the sleep would have ended and touched the marker by now
            # (the bracket keeps pgrep from matching this very command line)
            check = await client.call_tool("bash", {"command": "ls cancelled-marker; pgrep -f 'slee[p] 4.5' || echo none"})
        out = check.structured_content["stdout"]
        assert out.strip() == "none", out
        assert "No such file" in check.structured_content["stderr"]

    async def test_a_long_call_sends_progress(self, agent_id):
        seen = []

        async def on_progress(progress, total, message):
            seen.append((progress, message))

        async with self.connect(agent_id) as client:
            result = await client.call_tool("bash", {"command": "sleep 2.6; echo done"}, progress_callback=on_progress)
        assert "done" in text_of(result)
        assert len(seen) >= 1, seen
        assert all(message.startswith("running for") for _, message in seen)

    async def test_exec_session_tools(self, agent_id):
        async with self.connect(agent_id) as client:
            started = await client.call_tool("exec_start", {"command": "echo ready; sleep 60", "wait": 0.5})
            session = started.structured_content["session_id"]
            assert "ready" in text_of(started) and started.structured_content["state"] == "running"
            killed = await client.call_tool("exec_kill", {"session_id": session, "signal": "KILL"})
            assert not killed.is_error
            output = await client.call_tool("exec_output", {"session_id": session, "wait": 5})
        assert output.structured_content["state"] == "killed"

    async def test_workspace_files_are_resources(self, agent_id, http):
        reply = http.post(f"/v1/agents/{agent_id}/sandbox/bash",
                          json={"command": "mkdir -p many && for i in $(seq 105); do echo $i > many/f$i.txt; done; printf 'a\\0b' > bin.dat"})
        assert reply.status_code == 200
        async with self.connect(agent_id) as client:
            uris, cursor = [], None
            while True:
                page = await client.list_resources(cursor=cursor)
                uris += [str(r.uri) for r in page.resources]
                cursor = page.next_cursor
                if not cursor:
                    break
            text = await client.read_resource("workspace:///many/f7.txt")
            binary = await client.read_resource("workspace:///bin.dat")
        assert len(uris) == len(set(uris)) == 106
        assert "workspace:///many/f105.txt" in uris
        assert text.contents[0].text == "7\n"
        assert base64.b64decode(binary.contents[0].blob) == b"a\0b"

    async def test_a_resource_outside_the_workspace_is_refused(self, agent_id):
        from mcp.shared.exceptions import MCPError
        async with self.connect(agent_id) as client:
            try:
                await client.read_resource("workspace:///../../etc/passwd")
            except MCPError as error:
                assert "outside" in str(error).lower() or "workspace" in str(error).lower()
            else:
                raise AssertionError("read outside the workspace succeeded")
