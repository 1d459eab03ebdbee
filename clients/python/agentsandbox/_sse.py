"""Server-Sent Events for exec output: an incremental parser (bytes in, :class:`ExecEvent` out).

The SDK asks for ``?encoding=base64``, so each output event is a single ``data:`` line holding up to 256 KiB
of exact bytes: the parser finds lines with ``bytes.find`` (memchr) and decodes base64 in C, which keeps
a 200 MB stream cheap. Text-mode streams (several ``data:`` lines joined with LF) are understood too.
"""
from __future__ import annotations

import binascii
import json
from typing import List, Optional

from .types import ExecEvent, ExecExit

__all__ = ["SSEParser"]


class SSEParser:
    """Feed chunks of the response body; get back the complete events they finish."""

    def __init__(self, base64: bool = True) -> None:
        self._buffer = bytearray()
        self._base64 = base64
        self._reset()

    def _reset(self) -> None:
        self._id: Optional[bytes] = None
        self._event = b"message"
        self._data: List[bytes] = []

    def feed(self, chunk: bytes) -> List[ExecEvent]:
        buffer = self._buffer
        buffer += chunk
        events: List[ExecEvent] = []
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            line = bytes(buffer[start:end])
            start = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                event = self._dispatch()
                if event is not None:
                    events.append(event)
                continue
            if line[0] == 58:  # ":" a comment (keep-alive, session banner)
                continue
            name, _, value = line.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            if name == b"data":
                self._data.append(value)
            elif name == b"event":
                self._event = value
            elif name == b"id":
                self._id = value
        if start:
            del buffer[:start]
        return events

    def _dispatch(self) -> Optional[ExecEvent]:
        if not self._data and self._event == b"message":
            self._reset()
            return None
        kind = self._event.decode("ascii", "replace")
        event_id = int(self._id) if self._id and self._id.isdigit() else None
        data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        self._reset()
        if kind in ("stdout", "stderr"):
            payload = binascii.a2b_base64(data) if self._base64 else data
            return ExecEvent(kind, event_id, payload)
        if kind == "exit":
            return ExecEvent(kind, event_id, exit=ExecExit.from_json(json.loads(data or b"{}")))
        if kind == "dropped":
            body = json.loads(data or b"{}")
            return ExecEvent(kind, event_id, dropped_bytes=int(body.get("dropped_bytes", 0)), stream=body.get("stream"))
        return ExecEvent(kind, event_id, data)
