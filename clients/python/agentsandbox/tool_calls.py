"""Framework glue: read a model's tool calls (Anthropic, OpenAI Chat, OpenAI Responses) and write the
tool-result messages that go back to it. Pure functions; ``Agent.run_tool_calls`` does the I/O.

Accepted shapes (dicts, or the official SDKs' objects, which are read through ``model_dump()`` or attributes):

* Anthropic ``{"type": "tool_use", "id", "name", "input": {...}}`` blocks, or an assistant message holding them;
* OpenAI Chat ``{"id", "type": "function", "function": {"name", "arguments": "<JSON string>"}}``, or an
  assistant message with ``tool_calls``;
* OpenAI Responses ``{"type": "function_call", "call_id", "name", "arguments": "<JSON string>"}``.

Results: Anthropic calls give one ``{"role": "user", "content": [tool_result blocks]}`` message; OpenAI Chat
calls give one ``{"role": "tool", "tool_call_id", "content"}`` message each; Responses calls give one
``{"type": "function_call_output", "call_id", "output"}`` item each.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

__all__ = ["ParsedCall", "parse_calls", "result_text", "build_messages", "error_envelope", "envelope_for_error"]


@dataclass
class ParsedCall:
    """One tool call: ``format`` is ``anthropic``, ``openai`` or ``responses``; ``problem`` is set when the
    call could not be read (its arguments were not a JSON object), and is reported to the model."""

    format: str
    id: str
    name: str
    input: Dict[str, Any]
    problem: Optional[str] = None


def _plain(item: Any) -> Any:
    if isinstance(item, dict) or item is None:
        return item
    for method in ("model_dump", "to_dict", "dict"):
        if callable(getattr(item, method, None)):
            return getattr(item, method)()
    return {k: v for k, v in vars(item).items() if not k.startswith("_")}


def _arguments(raw: Any) -> Tuple[Dict[str, Any], Optional[str]]:
    if isinstance(raw, dict):
        return raw, None
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError) as error:
        return {}, f"The tool call's arguments are not valid JSON ({error}); send a JSON object."
    if not isinstance(value, dict):
        return {}, "The tool call's arguments must be a JSON object."
    return value, None


def _blocks(calls: Any) -> Iterable[Dict[str, Any]]:
    items = calls if isinstance(calls, (list, tuple)) else [calls]
    for item in items:
        item = _plain(item)
        if not isinstance(item, dict):
            continue
        if item.get("tool_calls"):  # an OpenAI Chat assistant message
            yield from (_plain(c) for c in item["tool_calls"])
        elif isinstance(item.get("content"), list) and "role" in item:  # an Anthropic message
            yield from (_plain(c) for c in item["content"])
        else:
            yield item


def parse_calls(calls: Any) -> List[ParsedCall]:
    """The tool calls in ``calls`` (one call, a list of calls or content blocks, or a whole assistant
    message), in order; text blocks and other items are skipped."""
    parsed: List[ParsedCall] = []
    for block in _blocks(calls):
        kind = block.get("type")
        if kind == "tool_use":
            args, problem = _arguments(block.get("input") or {})
            parsed.append(ParsedCall("anthropic", block.get("id", ""), block.get("name", ""), args, problem))
        elif kind == "function_call":
            args, problem = _arguments(block.get("arguments"))
            call_id = block.get("call_id") or block.get("id", "")
            parsed.append(ParsedCall("responses", call_id, block.get("name", ""), args, problem))
        elif isinstance(block.get("function"), dict):
            function = block["function"]
            args, problem = _arguments(function.get("arguments"))
            parsed.append(ParsedCall("openai", block.get("id", ""), function.get("name", ""), args, problem))
    return parsed


def result_text(name: str, envelope: Dict[str, Any]) -> str:
    """A tool's envelope as text for a model: output first, then exit code, truncation and error sentence."""
    parts: List[str] = []
    stdout, stderr, content = envelope.get("stdout"), envelope.get("stderr"), envelope.get("content")
    if stdout:
        parts.append(stdout.rstrip("\n"))
    if stderr:
        parts.append("stderr:\n" + stderr.rstrip("\n"))
    if content:
        parts.append(content.rstrip("\n"))
    matches = envelope.get("matches")
    if matches:
        parts.append("\n".join(_match_line(m) for m in matches))
    elif isinstance(matches, list) and envelope.get("status") == "ok":
        parts.append("No matches.")
    if envelope.get("url"):
        parts.append(f"Shared at {envelope['url']} (expires {envelope.get('expires_at')})")
    if name == "file_write" and envelope.get("status") == "ok" and not parts:
        parts.append(f"Wrote {envelope.get('bytes_written', 0)} bytes to {envelope.get('path')}.")
    if envelope.get("exit_code") is not None:
        parts.append(f"exit code: {envelope['exit_code']}")
    if envelope.get("truncated"):
        parts.append("[output truncated: only part of it is shown]")
    if envelope.get("status") == "error":
        parts.append(f"Error ({envelope.get('error_code') or 'ERROR'}): {envelope.get('error') or 'the tool failed.'}")
    return "\n".join(parts) if parts else "(no output)"


def _match_line(match: Any) -> str:
    if isinstance(match, dict) and "file" in match:
        return f"{match['file']}:{match.get('line', '')}: {match.get('content', '')}"
    return str(match)


def build_messages(calls: List[ParsedCall], results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The messages to append to the conversation: ``results[i]`` is the envelope of ``calls[i]``."""
    messages: List[Dict[str, Any]] = []
    anthropic: List[Dict[str, Any]] = []
    for call, envelope in zip(calls, results):
        text = result_text(call.name, envelope)
        is_error = envelope.get("status") == "error"
        if call.format == "anthropic":
            anthropic.append({"type": "tool_result", "tool_use_id": call.id, "content": text, "is_error": is_error})
        elif call.format == "responses":
            messages.append({"type": "function_call_output", "call_id": call.id, "output": text})
        else:
            messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    if anthropic:
        messages.insert(0, {"role": "user", "content": anthropic})
    return messages


def error_envelope(error_code: str, message: str) -> Dict[str, Any]:
    """An envelope for a call that never reached a tool (bad arguments, unknown tool, invalid field)."""
    return {"status": "error", "error_code": error_code, "error": message}


def envelope_for_error(error: Exception) -> Optional[Dict[str, Any]]:
    """The envelope to show the model for a request-level failure that the model caused (a field with a
    wrong value, an unknown tool); None for failures the application must handle (raised instead)."""
    from .errors import BadRequestError, NotFoundError
    if isinstance(error, BadRequestError) or (isinstance(error, NotFoundError) and error.error_code == "TOOL_NOT_FOUND"):
        return error_envelope(error.error_code or "INVALID_REQUEST", error.message)
    return None
