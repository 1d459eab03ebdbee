"""What the sync and async ``ExecSession`` share: the stream request, the resume point (the last event id
seen), the exit once known, and incremental UTF-8 decoding for the ``on_stdout``/``on_stderr`` callbacks."""
from __future__ import annotations

import codecs
from typing import Any, Callable, Dict, Optional, Tuple

import httpx

from . import _ops
from .types import ExecEvent, ExecExit, SessionInfo

__all__ = ["SessionCore", "STREAM_TIMEOUT", "MAX_RECONNECTS"]

#: The server sends a keep-alive comment after 5 s of silence, so 60 s without a byte means a dead link.
STREAM_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
#: Consecutive failed reconnects before the stream gives up.
MAX_RECONNECTS = 5


class SessionCore:
    """Per-session bookkeeping; does no I/O."""

    def __init__(self, agent_id: str, info: SessionInfo, after: int, decode: bool,
                 callbacks: Dict[str, Optional[Callable[..., Any]]]) -> None:
        self.agent_id = agent_id
        self.info = info
        self.session_id = info.session_id
        self.last_event_id = after
        self.exit: Optional[ExecExit] = None
        self.decode = decode
        self.callbacks = callbacks
        self._decoders = {name: codecs.getincrementaldecoder("utf-8")("replace") for name in ("stdout", "stderr")}

    @property
    def has_callbacks(self) -> bool:
        return any(self.callbacks.values())

    def stream_request(self) -> Tuple[str, Dict[str, str], Dict[str, str]]:
        """Path, query and headers of the next ``GET .../stream`` (resuming after the last event seen)."""
        headers = {"accept": "text/event-stream"}
        if self.last_event_id:
            headers["last-event-id"] = str(self.last_event_id)
        return _ops.session_path(self.agent_id, self.session_id) + "/stream", {"encoding": "base64"}, headers

    def accept(self, event: ExecEvent) -> bool:
        """Records ``event``; False for an event already delivered (a replay after reconnecting)."""
        if event.id is not None:
            if event.id <= self.last_event_id:
                return False
            self.last_event_id = event.id
        if event.exit is not None:
            self.exit = event.exit
        return True

    def dispatch(self, event: ExecEvent) -> Optional[Tuple[Callable[..., Any], Any]]:
        """The callback for ``event`` and its argument (text, or bytes with ``decode=False``), if any."""
        if event.type in ("stdout", "stderr"):
            callback = self.callbacks.get("on_" + event.type)
            if callback is None:
                return None
            payload: Any = event.data
            if self.decode:
                payload = self._decoders[event.type].decode(event.data)
                if not payload:
                    return None
            return callback, payload
        if event.type == "exit" and self.callbacks.get("on_exit"):
            return self.callbacks["on_exit"], event.exit
        return None

    @staticmethod
    def exit_from(info: SessionInfo) -> ExecExit:
        return ExecExit(raw=info.raw, exit_code=info.exit_code, signal=info.signal, timed_out=info.timed_out)
