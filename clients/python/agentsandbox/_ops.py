"""The API's calls as :class:`Call` builders (routes, bodies, parsers), shared by ``Client`` and ``AsyncClient``.

Routes: DESIGN.md section 2 and schemas/openapi.json. Tool calls go to ``POST /v1/agents/{id}/sandbox/{tool}``
(the envelope family). Read-only tools (file_read, glob, grep) and state changes that end in the same
state (create with an id, suspend, resume, wait) are marked idempotent, so they may be retried.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ._call import Call
from .types import (AgentInfo, CommandResult, EditResult, FileContent, GlobResult, GrepResult, SessionInfo,
                    Share, ToolResult, WriteResult)

#: Seconds added to a command's own timeout for the HTTP read timeout of the call that runs it.
COMMAND_MARGIN = 30.0
DEFAULT_COMMAND_TIMEOUT = 300.0


def _clean(fields: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def agent_path(agent_id: str) -> str:
    return f"/v1/agents/{agent_id}"


# Agents

def create_agent(agent_id: Optional[str], network: Optional[str], limits: Optional[Dict[str, Any]]) -> Call:
    body = _clean({"agent_id": agent_id, "network": network, "limits": limits})
    return Call("POST", "/v1/agents", json=body, parse=AgentInfo.from_json, idempotent=agent_id is not None)


def list_agents() -> Call:
    return Call("GET", "/v1/agents", parse=lambda b: [AgentInfo.from_json(a) for a in b.get("agents", [])],
                idempotent=True)


def get_agent(agent_id: str) -> Call:
    return Call("GET", agent_path(agent_id), parse=AgentInfo.from_json, idempotent=True)


def set_state(agent_id: str, verb: str) -> Call:
    return Call("POST", f"{agent_path(agent_id)}/{verb}", parse=AgentInfo.from_json, idempotent=True)


def delete_agent(agent_id: str) -> Call:
    return Call("DELETE", agent_path(agent_id))


def tool_definitions(format: str) -> Call:
    return Call("GET", "/v1/tools", params={"format": format}, parse=lambda b: b.get("tools", []), idempotent=True)


# Tools

def tool(agent_id: str, name: str, input: Dict[str, Any], parse: Any = ToolResult.from_json, *,
         raises: bool = True, idempotent: bool = False, timeout: Optional[float] = None) -> Call:
    return Call("POST", f"{agent_path(agent_id)}/sandbox/{name}", json=_clean(input), parse=parse, tool=raises,
                idempotent=idempotent, timeout=timeout)


def command_timeout(timeout: Optional[float]) -> float:
    return (timeout or DEFAULT_COMMAND_TIMEOUT) + COMMAND_MARGIN


def bash(agent_id: str, command: str, timeout: Optional[float], cwd: Optional[str],
         env: Optional[Dict[str, str]], stdin: Optional[str]) -> Call:
    body = {"command": command, "timeout": timeout, "working_dir": cwd, "env": env, "stdin": stdin}
    return tool(agent_id, "bash", body, CommandResult.from_json, raises=False, timeout=command_timeout(timeout))


def file_read(agent_id: str, path: str, start_line: Optional[int], end_line: Optional[int],
              encoding: Optional[str], line_numbers: Optional[bool]) -> Call:
    body = {"path": path, "start_line": start_line, "end_line": end_line, "encoding": encoding,
            "line_numbers": line_numbers}
    return tool(agent_id, "file_read", body, FileContent.from_json, idempotent=True)


def file_write(agent_id: str, path: str, content: str, mode: str, encoding: Optional[str],
               create_dirs: Optional[bool]) -> Call:
    body = {"path": path, "content": content, "mode": mode, "encoding": encoding, "create_dirs": create_dirs}
    return tool(agent_id, "file_write", body, WriteResult.from_json)


def file_edit(agent_id: str, path: str, old_text: str, new_text: str, replace_all: Optional[bool]) -> Call:
    body = {"path": path, "old_text": old_text, "new_text": new_text, "replace_all": replace_all}
    return tool(agent_id, "file_edit", body, EditResult.from_json)


def multi_edit(agent_id: str, edits: List[Dict[str, Any]]) -> Call:
    return tool(agent_id, "multi_edit", {"edits": edits}, EditResult.from_json)


def glob(agent_id: str, pattern: str, root_dir: Optional[str], max_results: Optional[int]) -> Call:
    body = {"pattern": pattern, "root_dir": root_dir, "max_results": max_results}
    return tool(agent_id, "glob", body, GlobResult.from_json, idempotent=True)


def grep(agent_id: str, pattern: str, options: Dict[str, Any]) -> Call:
    return tool(agent_id, "grep", {"pattern": pattern, **options}, GrepResult.from_json, idempotent=True)


def share(agent_id: str, path: str, expires_in: Optional[float]) -> Call:
    return tool(agent_id, "file_share", {"path": path, "expires_in": expires_in}, Share.from_json)


def list_shares(agent_id: str) -> Call:
    return Call("GET", f"{agent_path(agent_id)}/shares",
                parse=lambda b: [Share.from_json(s) for s in b.get("shares", [])], idempotent=True)


def revoke_share(agent_id: str, token: str) -> Call:
    return Call("DELETE", f"{agent_path(agent_id)}/shares/{token}", idempotent=True)


def call_tool(agent_id: str, name: str, input: Dict[str, Any]) -> Call:
    """``POST .../tools/call {name, input}``: the raw envelope, whatever its status."""
    timeout = command_timeout(input.get("timeout")) if name == "bash" else None
    return Call("POST", f"{agent_path(agent_id)}/tools/call", json={"name": name, "input": input}, timeout=timeout)


# Exec

def exec_run(agent_id: str, command: str, cwd: Optional[str], env: Optional[Dict[str, str]],
             timeout: Optional[float], stdin: Optional[str]) -> Call:
    body = _clean({"command": command, "cwd": cwd, "env": env, "timeout": timeout, "stdin": stdin})
    return Call("POST", f"{agent_path(agent_id)}/exec", json=body, parse=CommandResult.from_json,
                timeout=command_timeout(timeout))


def exec_start(agent_id: str, command: str, cwd: Optional[str], env: Optional[Dict[str, str]],
               timeout: Optional[float], stdin: bool) -> Call:
    body = _clean({"command": command, "cwd": cwd, "env": env, "timeout": timeout, "background": True,
                   "keep_stdin_open": stdin})
    return Call("POST", f"{agent_path(agent_id)}/exec", json=body, parse=SessionInfo.from_json)


def session_path(agent_id: str, session_id: str) -> str:
    return f"{agent_path(agent_id)}/exec/{session_id}"


def exec_list(agent_id: str) -> Call:
    return Call("GET", f"{agent_path(agent_id)}/exec",
                parse=lambda b: [SessionInfo.from_json(s) for s in b.get("sessions", [])], idempotent=True)


def session_info(agent_id: str, session_id: str) -> Call:
    return Call("GET", session_path(agent_id, session_id), parse=SessionInfo.from_json, idempotent=True)


def session_wait(agent_id: str, session_id: str, timeout: float) -> Call:
    return Call("POST", session_path(agent_id, session_id) + "/wait", json={"timeout": timeout},
                parse=SessionInfo.from_json, idempotent=True, timeout=timeout + COMMAND_MARGIN)


def session_stdin(agent_id: str, session_id: str, data: Any, eof: bool) -> Call:
    import base64
    body: Dict[str, Any] = {"eof": eof}
    if isinstance(data, (bytes, bytearray, memoryview)):
        body.update(data=base64.b64encode(bytes(data)).decode("ascii"), encoding="base64")
    else:
        body["data"] = data
    return Call("POST", session_path(agent_id, session_id) + "/stdin", json=body)


def session_kill(agent_id: str, session_id: str, signal: Any) -> Call:
    return Call("POST", session_path(agent_id, session_id) + "/kill", json={"signal": signal},
                parse=SessionInfo.from_json)
