"""``AsyncAgent``: the async twin of :class:`agentsandbox.Agent` (same methods, awaited)."""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Dict, List, Optional

from .. import _archive, _ops, tool_calls
from ..errors import SandboxError
from ..types import AgentInfo, CommandResult, GlobResult, GrepResult, ImportReport, Share
from ._transport import AsyncTransport
from .exec import AsyncExec
from .files import AsyncFiles

__all__ = ["AsyncAgent"]


class AsyncAgent:
    """One agent, for asyncio code. Get one with ``await client.agent(id)``."""

    def __init__(self, transport: AsyncTransport, agent_id: str, info: Optional[AgentInfo] = None) -> None:
        self._t = transport
        self.id = agent_id
        self.created_info = info
        self.files = AsyncFiles(transport, agent_id)
        self.exec = AsyncExec(transport, agent_id)

    def __repr__(self) -> str:
        return f"AsyncAgent({self.id!r})"

    async def info(self) -> AgentInfo:
        """uid, state, disk use, creation and last use."""
        return await self._t.run(_ops.get_agent(self.id))

    async def suspend(self) -> AgentInfo:
        """Freezes the agent; its calls get 409 until resumed."""
        return await self._t.run(_ops.set_state(self.id, "suspend"))

    async def resume(self) -> AgentInfo:
        """Thaws a suspended agent."""
        return await self._t.run(_ops.set_state(self.id, "resume"))

    async def delete(self) -> None:
        """Deletes the agent, its processes, workspace and shares."""
        await self._t.run(_ops.delete_agent(self.id))

    async def bash(self, command: str, *, timeout: Optional[float] = None, cwd: Optional[str] = None,
                   env: Optional[Dict[str, str]] = None, stdin: Optional[str] = None) -> CommandResult:
        """Runs ``command`` with the ``bash`` tool (see ``Agent.bash``)."""
        return await self._t.run(_ops.bash(self.id, command, timeout, cwd, env, stdin))

    async def glob(self, pattern: str, *, root_dir: Optional[str] = None,
                   max_results: Optional[int] = None) -> GlobResult:
        """Workspace paths matching ``pattern``, newest first."""
        return await self._t.run(_ops.glob(self.id, pattern, root_dir, max_results))

    async def grep(self, pattern: str, **options: Any) -> GrepResult:
        """Searches file contents (options as ``Agent.grep``: path, include, context_lines, output_mode,
        case_insensitive, max_results, multiline)."""
        return await self._t.run(_ops.grep(self.id, pattern, options))

    async def share(self, path: str, *, expires_in: Optional[float] = None) -> Share:
        """Publishes a snapshot of ``path`` at an unguessable URL."""
        return await self._t.run(_ops.share(self.id, path, expires_in))

    async def shares(self) -> List[Share]:
        """The agent's live shares."""
        return await self._t.run(_ops.list_shares(self.id))

    async def revoke_share(self, token: str) -> None:
        """Revokes a share by its token."""
        await self._t.run(_ops.revoke_share(self.id, token))

    async def export(self, destination: _archive.Destination, *, format: str = "tar.gz",
                     progress: _archive.Progress = None) -> int:
        """Streams the workspace as an archive into a path or binary file object; returns the bytes written."""
        params = _archive.export_params(format)
        handle, owned = await asyncio.to_thread(_archive.open_destination, destination)
        written = 0
        try:
            async with self._t.stream("GET", f"{_ops.agent_path(self.id)}/archive", params=params) as response:
                async for chunk in response.aiter_bytes(_archive.CHUNK):
                    await asyncio.to_thread(handle.write, chunk)
                    written += len(chunk)
                    if progress is not None:
                        progress(written, None)
        finally:
            if owned:
                handle.close()
        return written

    async def import_(self, source: _archive.Source, *, mode: str = "merge",
                      progress: _archive.Progress = None) -> ImportReport:
        """Streams an archive (path or binary file object) into the workspace (see ``Agent.import_``)."""
        params = _archive.import_params(mode)
        handle, owned, size = await asyncio.to_thread(_archive.open_source, source)

        async def body() -> AsyncIterator[bytes]:
            chunks = _archive.read_chunks(handle, size, progress)
            while True:
                chunk = await asyncio.to_thread(next, chunks, None)
                if chunk is None:
                    return
                yield chunk

        try:
            async with self._t.stream("PUT", f"{_ops.agent_path(self.id)}/archive", params=params, content=body(),
                                      headers=_archive.upload_headers(size), timeout=None) as response:
                await response.aread()
                return ImportReport.from_json(response.json())
        finally:
            if owned:
                handle.close()

    async def tool_definitions(self, format: str = "openai") -> List[Dict[str, Any]]:
        """Tool definitions for function calling: ``openai``, ``anthropic`` or ``json-schema``."""
        return await self._t.run(_ops.tool_definitions(format))

    async def run_tool_calls(self, calls: Any, *, max_concurrency: int = 8) -> List[Dict[str, Any]]:
        """Runs a model's tool calls concurrently and returns the tool-result messages, in order
        (see ``Agent.run_tool_calls``)."""
        parsed = tool_calls.parse_calls(calls)
        gate = asyncio.Semaphore(max_concurrency)

        async def one(call: tool_calls.ParsedCall) -> Dict[str, Any]:
            if call.problem:
                return tool_calls.error_envelope("INVALID_ARGUMENTS", call.problem)
            async with gate:
                try:
                    return await self._t.run(_ops.call_tool(self.id, call.name, call.input))
                except SandboxError as error:
                    envelope = tool_calls.envelope_for_error(error)
                    if envelope is None:
                        raise
                    return envelope

        results = await asyncio.gather(*(one(call) for call in parsed))
        return tool_calls.build_messages(parsed, list(results))
