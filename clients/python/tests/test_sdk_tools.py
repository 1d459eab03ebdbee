"""Agents, bash, files, glob, grep, share and the framework glue (tool definitions and a model's tool calls in
Anthropic, OpenAI Chat and OpenAI Responses shapes), against the live server."""
import json
import time

import httpx
import pytest

from agentsandbox import AgentInfo, GrepMatch


def test_agent_is_created_or_attached_and_listed(client):
    agent = client.agent(network="none")
    try:
        again = client.agent(agent.id)
        assert again.id == agent.id and again.created_info.uid == agent.created_info.uid
        info = agent.info()
        assert isinstance(info, AgentInfo) and info.state == "active" and info.network == "none"
        assert info.disk_usage_bytes is not None
        assert agent.id in [a.agent_id for a in client.agents.list()]
    finally:
        agent.delete()


def test_bash_reports_exit_code_and_timeout_as_results(agent):
    result = agent.bash("echo $A; exit 2", env={"A": "x"})
    assert result.stdout == "x\n" and result.exit_code == 2 and result.ok
    late = agent.bash("sleep 10", timeout=1)
    assert not late.ok and late.timed_out and late.exit_code == 124


def test_file_tools_write_append_read_edit_and_multi_edit(agent):
    assert agent.files.write("a/b.txt", "one\ntwo\n").created
    assert agent.files.append("a/b.txt", "three\n").size == 14
    read = agent.files.read("a/b.txt", start_line=2, end_line=3)
    assert read.content == "two\nthree\n" and read.total_lines == 3
    edit = agent.files.edit("a/b.txt", "two", "TWO")
    assert edit.replacements_made == 1 and "TWO" in edit.content
    multi = agent.files.multi_edit([{"path": "a/b.txt", "old_text": "one", "new_text": "1"},
                                    {"path": "a/b.txt", "old_text": "1", "new_text": "ONE"}])
    assert multi.replacements_made == 2
    assert agent.files.read("a/b.txt").content == "ONE\nTWO\nthree\n"


def test_glob_grep_and_share(agent):
    agent.files.write("src/x.py", "import os\nprint('needle')\n")
    agent.files.write("src/y.txt", "needle too\n")
    assert agent.glob("**/*.py").matches == ["src/x.py"]
    found = agent.grep("needle", include="*.py")
    assert found.total_matches == 1 and found.matches == [GrepMatch("src/x.py", 2, "print('needle')", [])]
    share = agent.share("src/y.txt", expires_in=60)
    assert httpx.get(share.url).text == "needle too\n"
    assert [s.token for s in agent.shares()] == [share.token]
    agent.revoke_share(share.token)
    assert httpx.get(share.url).status_code == 404


def test_tool_definitions_in_both_formats(agent):
    openai = {t["function"]["name"]: t for t in agent.tool_definitions("openai")}
    anthropic = {t["name"]: t for t in agent.tool_definitions("anthropic")}
    assert set(openai) == set(anthropic) >= {"bash", "file_read", "file_edit", "grep"}
    assert "command" in anthropic["bash"]["input_schema"]["properties"]


def test_anthropic_tool_use_blocks_become_one_user_message_of_tool_results(agent):
    message = {"role": "assistant", "content": [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {"command": "echo hi; exit 3"}},
        {"type": "tool_use", "id": "toolu_2", "name": "file_read", "input": {"path": "nope.txt"}},
        {"type": "tool_use", "id": "toolu_3", "name": "no_such_tool", "input": {}},
    ]}
    [reply] = agent.run_tool_calls(message)
    assert reply["role"] == "user"
    first, second, third = reply["content"]
    assert first == {"type": "tool_result", "tool_use_id": "toolu_1", "content": "hi\nexit code: 3", "is_error": False}
    assert second["tool_use_id"] == "toolu_2" and second["is_error"]
    assert "FILE_NOT_FOUND" in second["content"] and "nope.txt" in second["content"]
    assert third["is_error"] and "TOOL_NOT_FOUND" in third["content"]


def test_openai_chat_tool_calls_run_concurrently_in_order(agent):
    calls = [
        {"id": f"call_{i}", "type": "function",
         "function": {"name": "bash", "arguments": json.dumps({"command": f"sleep 1; echo {i}"})}}
        for i in range(3)
    ]
    calls.append({"id": "call_bad", "type": "function", "function": {"name": "bash", "arguments": "{not json"}})
    started = time.monotonic()
    replies = agent.run_tool_calls({"role": "assistant", "content": None, "tool_calls": calls})
    assert time.monotonic() - started < 2.5
    assert [r["tool_call_id"] for r in replies] == ["call_0", "call_1", "call_2", "call_bad"]
    assert all(r["role"] == "tool" for r in replies)
    assert [r["content"] for r in replies[:3]] == [f"{i}\nexit code: 0" for i in range(3)]
    assert "not valid JSON" in replies[3]["content"]


def test_openai_responses_function_calls(agent):
    agent.files.write("hello.txt", "hello world\n")
    items = [{"type": "function_call", "call_id": "fc_1", "name": "grep",
              "arguments": json.dumps({"pattern": "world"})}]
    [output] = agent.run_tool_calls(items)
    assert output == {"type": "function_call_output", "call_id": "fc_1", "output": "hello.txt:1: hello world"}


@pytest.mark.asyncio
async def test_async_tools_and_tool_calls(aagent):
    await aagent.files.write("a.txt", "alpha\n")
    assert (await aagent.glob("*.txt")).matches == ["a.txt"]
    assert (await aagent.grep("alp")).total_matches == 1
    assert (await aagent.bash("cat a.txt")).stdout == "alpha\n"
    [reply] = await aagent.run_tool_calls([
        {"type": "tool_use", "id": "t1", "name": "file_read", "input": {"path": "a.txt"}},
        {"type": "tool_use", "id": "t2", "name": "file_write", "input": {"path": "b.txt", "content": "beta"}},
    ])
    assert [block["tool_use_id"] for block in reply["content"]] == ["t1", "t2"]
    assert reply["content"][0]["content"] == "alpha"
    assert reply["content"][1]["content"] == "Wrote 4 bytes to b.txt."
    assert len(await aagent.tool_definitions("anthropic")) >= 8
