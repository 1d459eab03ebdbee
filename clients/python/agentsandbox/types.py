"""Typed results: plain dataclasses built from the server's JSON (the whole body stays in ``raw``)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Type, TypeVar

T = TypeVar("T", bound="Model")

__all__ = [
    "Model", "AgentInfo", "ToolResult", "CommandResult", "BashResult", "ExecResult", "FileContent",
    "WriteResult", "EditResult", "GlobResult", "GrepMatch", "GrepResult", "Share", "ImportReport",
    "SessionInfo", "ExecExit", "ExecEvent",
]

_FIELDS: Dict[type, tuple] = {}


@dataclass
class Model:
    """Base of the result types: ``from_json`` keeps the fields it knows and the whole body in ``raw``."""

    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls: Type[T], body: Dict[str, Any]) -> T:
        names = _FIELDS.get(cls)
        if names is None:
            names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name != "raw")
        return cls(raw=body, **{name: body[name] for name in names if body.get(name) is not None})


@dataclass
class AgentInfo(Model):
    """An agent as ``GET /v1/agents/{id}`` shows it."""

    agent_id: str = ""
    state: str = ""
    uid: Optional[int] = None
    gid: Optional[int] = None
    workspace: Optional[str] = None
    created_at: Optional[str] = None
    last_used_at: Optional[str] = None
    disk_usage_bytes: Optional[int] = None
    #: The disk cap (``limits.disk_bytes``, the size of its disk image); None when the agent has no cap.
    disk_limit_bytes: Optional[int] = None
    network: Optional[str] = None
    limits: Optional[Dict[str, Any]] = None


@dataclass
class ToolResult(Model):
    """Any tool's envelope. ``ok`` is False for a tool-level failure (``error_code`` and ``error`` say why)."""

    status: str = "ok"
    error: Optional[str] = None
    error_code: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class CommandResult(ToolResult):
    """A finished command (``bash`` or ``exec.run``). A non-zero ``exit_code`` is a normal result, ``ok`` stays
    True; ``ok`` is False when the command could not finish (``timed_out``: killed after its timeout, exit
    code 124, partial output kept)."""

    stdout: str = ""
    stderr: str = ""
    exit_code: Optional[int] = None
    truncated: bool = False
    duration_ms: Optional[float] = None

    @property
    def timed_out(self) -> bool:
        return self.error_code == "TIMEOUT"

    @property
    def success(self) -> bool:
        """True when the command ran to completion and exited 0."""
        return self.ok and self.exit_code == 0


BashResult = CommandResult
ExecResult = CommandResult


@dataclass
class FileContent(ToolResult):
    """``file_read``: the text of the range (or base64 with ``encoding="base64"``) and the file's length."""

    content: str = ""
    path: Optional[str] = None
    total_lines: Optional[int] = None
    truncated: bool = False
    encoding: Optional[str] = None


@dataclass
class WriteResult(ToolResult):
    """``file_write`` (and append)."""

    path: Optional[str] = None
    bytes_written: Optional[int] = None
    size: Optional[int] = None
    created: Optional[bool] = None


@dataclass
class EditResult(ToolResult):
    """``file_edit`` / ``multi_edit``: how many replacements, and the edited region with line numbers."""

    path: Optional[str] = None
    replacements_made: int = 0
    content: Optional[str] = None
    results: Optional[List[Dict[str, Any]]] = None


@dataclass
class GlobResult(ToolResult):
    """``glob``: workspace-relative paths, newest first."""

    matches: List[str] = field(default_factory=list)
    total_found: int = 0
    truncated: bool = False


@dataclass
class GrepMatch:
    """One ``grep`` hit in content mode."""

    file: str
    line: int
    content: str
    context: List[Any] = field(default_factory=list)


@dataclass
class GrepResult(ToolResult):
    """``grep``: :class:`GrepMatch` items in content mode; whatever the server sends for the other modes."""

    matches: List[Any] = field(default_factory=list)
    total_matches: int = 0
    truncated: bool = False

    def __post_init__(self) -> None:
        self.matches = [
            GrepMatch(m.get("file", ""), m.get("line", 0), m.get("content", ""), m.get("context") or [])
            if isinstance(m, dict) and "file" in m and "line" in m else m
            for m in (self.matches or [])
        ]


@dataclass
class Share(ToolResult):
    """``file_share``: a snapshot of one file behind an unguessable ``url``, until ``expires_at``."""

    url: Optional[str] = None
    path: Optional[str] = None
    token: Optional[str] = None
    expires_at: Optional[str] = None
    size: Optional[int] = None
    sha256: Optional[str] = None
    content_type: Optional[str] = None


@dataclass
class ImportReport(Model):
    """What an archive import did."""

    mode: str = ""
    entries: int = 0
    files: int = 0
    directories: int = 0
    symlinks: int = 0
    bytes: int = 0
    skipped: List[Any] = field(default_factory=list)
    skipped_count: int = 0


@dataclass
class SessionInfo(Model):
    """An exec session's state (list, get, kill)."""

    session_id: str = ""
    agent_id: str = ""
    command: str = ""
    cwd: str = ""
    pid: Optional[int] = None
    background: bool = False
    state: str = ""
    running: bool = False
    exit_code: Optional[int] = None
    signal: Optional[str] = None
    timed_out: bool = False
    started_at: Optional[str] = None
    finished_at: Optional[str] = None
    stdin_open: bool = False
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    dropped_bytes: int = 0
    last_event_id: int = 0


@dataclass
class ExecExit(Model):
    """How an exec session ended: ``exit_code``, the ``signal`` that killed it (``"SIGTERM"``) or None."""

    exit_code: Optional[int] = None
    signal: Optional[str] = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.signal is None and not self.timed_out


@dataclass
class ExecEvent:
    """One event of a session's output stream: ``type`` is ``stdout``, ``stderr``, ``dropped`` or ``exit``.

    ``data`` holds the exact output bytes (``text`` decodes them); ``exit`` is set on the ``exit`` event;
    ``dropped_bytes`` and ``stream`` on a ``dropped`` event (output of that stream the reader fell too far
    behind to receive).
    """

    type: str
    id: Optional[int] = None
    data: bytes = b""
    exit: Optional[ExecExit] = None
    dropped_bytes: int = 0
    stream: Optional[str] = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")
