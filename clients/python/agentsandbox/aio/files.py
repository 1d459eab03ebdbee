"""``agent.files`` of :class:`~agentsandbox.AsyncAgent` (see :class:`agentsandbox.Files`)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from .. import _ops
from ..types import EditResult, FileContent, WriteResult
from ._transport import AsyncTransport

__all__ = ["AsyncFiles"]


class AsyncFiles:
    """File tools of one agent, awaited. Tool-level failures raise :class:`~agentsandbox.ToolCallError`
    unless the client has ``raise_on_tool_error=False``."""

    def __init__(self, transport: AsyncTransport, agent_id: str) -> None:
        self._t = transport
        self._agent_id = agent_id

    async def read(self, path: str, *, start_line: Optional[int] = None, end_line: Optional[int] = None,
                   encoding: Optional[str] = None, line_numbers: Optional[bool] = None) -> FileContent:
        """Reads a text file or a 1-based inclusive line range."""
        return await self._t.run(_ops.file_read(self._agent_id, path, start_line, end_line, encoding, line_numbers))

    async def write(self, path: str, content: str, *, encoding: Optional[str] = None,
                    create_dirs: Optional[bool] = None) -> WriteResult:
        """Writes ``content`` atomically."""
        return await self._t.run(_ops.file_write(self._agent_id, path, content, "w", encoding, create_dirs))

    async def append(self, path: str, content: str, *, encoding: Optional[str] = None) -> WriteResult:
        """Appends ``content`` to the file."""
        return await self._t.run(_ops.file_write(self._agent_id, path, content, "a", encoding, None))

    async def edit(self, path: str, old_text: str, new_text: str, *, replace_all: bool = False) -> EditResult:
        """Replaces the exact text ``old_text`` by ``new_text``."""
        return await self._t.run(_ops.file_edit(self._agent_id, path, old_text, new_text, replace_all or None))

    async def multi_edit(self, edits: List[Dict[str, Any]]) -> EditResult:
        """Applies several edits in order, all or nothing."""
        return await self._t.run(_ops.multi_edit(self._agent_id, edits))
