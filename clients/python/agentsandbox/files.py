"""``agent.files``: read, write, append and edit workspace files (paths relative to the workspace root)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from . import _ops
from ._transport import Transport
from .types import EditResult, FileContent, WriteResult

__all__ = ["Files"]


class Files:
    """File tools of one agent. A tool-level failure (``FILE_NOT_FOUND``, ``EDIT_NOT_UNIQUE``, ...) raises
    :class:`~agentsandbox.ToolCallError`, or returns a result with ``ok == False`` when the client was made
    with ``raise_on_tool_error=False``."""

    def __init__(self, transport: Transport, agent_id: str) -> None:
        self._t = transport
        self._agent_id = agent_id

    def read(self, path: str, *, start_line: Optional[int] = None, end_line: Optional[int] = None,
             encoding: Optional[str] = None, line_numbers: Optional[bool] = None) -> FileContent:
        """Reads a text file, or lines ``start_line..end_line`` (1-based, inclusive). ``encoding="base64"``
        reads binary files; ``total_lines`` tells the file's length."""
        return self._t.run(_ops.file_read(self._agent_id, path, start_line, end_line, encoding, line_numbers))

    def write(self, path: str, content: str, *, encoding: Optional[str] = None,
              create_dirs: Optional[bool] = None) -> WriteResult:
        """Writes ``content`` atomically (parent directories created by default; ``encoding="base64"`` for
        bytes given as base64 text)."""
        return self._t.run(_ops.file_write(self._agent_id, path, content, "w", encoding, create_dirs))

    def append(self, path: str, content: str, *, encoding: Optional[str] = None) -> WriteResult:
        """Appends ``content`` to the file (created when missing)."""
        return self._t.run(_ops.file_write(self._agent_id, path, content, "a", encoding, None))

    def edit(self, path: str, old_text: str, new_text: str, *, replace_all: bool = False) -> EditResult:
        """Replaces the exact text ``old_text`` (which must occur once, unless ``replace_all``) by ``new_text``."""
        return self._t.run(_ops.file_edit(self._agent_id, path, old_text, new_text, replace_all or None))

    def multi_edit(self, edits: List[Dict[str, Any]]) -> EditResult:
        """Applies ``[{path, old_text, new_text, replace_all?}, ...]`` in order, all or nothing."""
        return self._t.run(_ops.multi_edit(self._agent_id, edits))
