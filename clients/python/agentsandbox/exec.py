"""Exec: run a command to completion, or start a background session and stream its output (blocking API)."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

import httpx

from . import _ops
from ._call import retry_delay
from ._session import MAX_RECONNECTS, STREAM_TIMEOUT, SessionCore
from ._sse import SSEParser
from ._transport import Transport
from .errors import APIConnectionError
from .types import CommandResult, ExecEvent, ExecExit, SessionInfo

__all__ = ["Exec", "ExecSession"]

Callback = Optional[Callable[[Any], Any]]


class ExecSession:
    """A background command. Output arrives through the ``on_stdout``/``on_stderr``/``on_exit`` callbacks
    (on a reader thread), or by iterating the session (``for event in session``) when no callback was given.

    The command keeps running when this object is closed or the connection drops: re-attach with
    ``agent.exec.attach(session_id)``. Reading resumes after the last event seen (``Last-Event-ID``).
    """

    def __init__(self, transport: Transport, agent_id: str, info: SessionInfo, *, on_stdout: Callback = None,
                 on_stderr: Callback = None, on_exit: Callback = None, after: int = 0, decode: bool = True) -> None:
        self._t = transport
        self._core = SessionCore(agent_id, info, after, decode,
                                 {"on_stdout": on_stdout, "on_stderr": on_stderr, "on_exit": on_exit})
        self._closed = threading.Event()
        self._error: Optional[BaseException] = None
        self._thread: Optional[threading.Thread] = None
        if self._core.has_callbacks:
            self._thread = threading.Thread(target=self._pump, name=f"exec-{info.session_id}", daemon=True)
            self._thread.start()

    @property
    def session_id(self) -> str:
        return self._core.session_id

    @property
    def pid(self) -> Optional[int]:
        return self._core.info.pid

    @property
    def exit(self) -> Optional[ExecExit]:
        """How the command ended, once the stream has delivered its ``exit`` event (else None)."""
        return self._core.exit

    @property
    def last_event_id(self) -> int:
        return self._core.last_event_id

    def __iter__(self) -> Iterator[ExecEvent]:
        """Output events in order (``stdout``, ``stderr``, ``dropped``), ending with ``exit``."""
        if self._thread is not None:
            raise RuntimeError("This session delivers its output to callbacks; iterate a session started without them.")
        return self._events()

    def _events(self) -> Iterator[ExecEvent]:
        core, failures = self._core, 0
        while core.exit is None and not self._closed.is_set():
            path, params, headers = core.stream_request()
            try:
                with self._t.stream("GET", path, params=params, headers=headers, timeout=STREAM_TIMEOUT) as response:
                    parser = SSEParser()
                    for chunk in response.iter_bytes():
                        for event in parser.feed(chunk):
                            if core.accept(event):
                                failures = 0
                                yield event
                        if core.exit is not None or self._closed.is_set():
                            return
            except (APIConnectionError, httpx.StreamError):
                if self._closed.is_set():
                    return
            failures += 1
            if failures > MAX_RECONNECTS:
                raise APIConnectionError(f"Lost the output stream of {core.session_id} {MAX_RECONNECTS} times; "
                                         f"re-attach with exec.attach('{core.session_id}', after={core.last_event_id}).")
            time.sleep(retry_delay(failures - 1))

    def _pump(self) -> None:
        try:
            for event in self._events():
                target = self._core.dispatch(event)
                if target is not None:
                    target[0](target[1])
        except BaseException as error:  # handed to wait()
            self._error = error

    def wait(self, timeout: Optional[float] = None) -> ExecExit:
        """Blocks until the command ends and returns its :class:`ExecExit`; ``TimeoutError`` after ``timeout`` s.
        With callbacks, it also waits until every output event has been delivered."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"Session {self.session_id} still running after {timeout} s.")
            if self._error is not None:
                raise self._error
            if self._core.exit is not None:
                return self._core.exit
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = 3600.0 if deadline is None else max(0.0, min(3600.0, deadline - time.monotonic()))
            info = self._t.run(_ops.session_wait(self._core.agent_id, self.session_id, remaining))
            if not info.running:
                self._core.exit = self._core.exit or SessionCore.exit_from(info)
                return self._core.exit
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"Session {self.session_id} still running after {timeout} s.")

    def send_stdin(self, data: Union[str, bytes], eof: bool = False) -> None:
        """Writes ``data`` (text, or exact bytes) to the command's stdin; ``eof=True`` closes it afterwards."""
        self._t.run(_ops.session_stdin(self._core.agent_id, self.session_id, data, eof))

    def close_stdin(self) -> None:
        """Closes the command's stdin (it reads end-of-file)."""
        self.send_stdin("", eof=True)

    def kill(self, signal: Union[str, int] = "SIGTERM") -> SessionInfo:
        """Signals the command's whole process group (``"SIGTERM"``, ``"SIGKILL"``, ``"INT"``, or a number)."""
        return self._t.run(_ops.session_kill(self._core.agent_id, self.session_id, signal))

    def info(self) -> SessionInfo:
        """The session's current state from the server."""
        return self._t.run(_ops.session_info(self._core.agent_id, self.session_id))

    def close(self) -> None:
        """Stops reading output (the reader thread ends at the next chunk or keep-alive, within ~5 s).
        The command keeps running; kill it with :meth:`kill`."""
        self._closed.set()

    def __enter__(self) -> "ExecSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Exec:
    """``agent.exec``: commands, foreground or as background sessions."""

    def __init__(self, transport: Transport, agent_id: str) -> None:
        self._t = transport
        self._agent_id = agent_id

    def run(self, command: str, *, cwd: Optional[str] = None, env: Optional[Dict[str, str]] = None,
            timeout: Optional[float] = None, stdin: Optional[str] = None) -> CommandResult:
        """Runs ``command`` with ``/bin/bash -c`` and returns ``exit_code``, ``stdout``, ``stderr``.
        A non-zero exit is a normal result; after ``timeout`` s (default 300) the command is killed and the
        result has ``timed_out == True`` and ``ok == False``."""
        return self._t.run(_ops.exec_run(self._agent_id, command, cwd, env, timeout, stdin))

    def start(self, command: str, *, cwd: Optional[str] = None, env: Optional[Dict[str, str]] = None,
              timeout: Optional[float] = None, stdin: bool = True, on_stdout: Callback = None,
              on_stderr: Callback = None, on_exit: Callback = None, decode: bool = True) -> ExecSession:
        """Starts ``command`` in the background and returns its :class:`ExecSession` at once.

        ``on_stdout(text)``/``on_stderr(text)`` get output as it arrives (bytes with ``decode=False``),
        ``on_exit(ExecExit)`` the end. ``stdin=True`` keeps stdin open for ``send_stdin``; ``timeout``
        (seconds, default none) kills the command after that long."""
        info = self._t.run(_ops.exec_start(self._agent_id, command, cwd, env, timeout, stdin))
        return ExecSession(self._t, self._agent_id, info, on_stdout=on_stdout, on_stderr=on_stderr,
                           on_exit=on_exit, decode=decode)

    def list(self) -> List[SessionInfo]:
        """The agent's sessions: running ones and those that finished recently."""
        return self._t.run(_ops.exec_list(self._agent_id))

    def get(self, session_id: str) -> SessionInfo:
        """One session's state (``NotFoundError`` if the server does not know it)."""
        return self._t.run(_ops.session_info(self._agent_id, session_id))

    def attach(self, session_id: str, *, on_stdout: Callback = None, on_stderr: Callback = None,
               on_exit: Callback = None, after: int = 0, decode: bool = True) -> ExecSession:
        """Re-attaches to a session: replays its buffered output after event ``after`` (0: from the start),
        then follows it live."""
        info = self.get(session_id)
        return ExecSession(self._t, self._agent_id, info, on_stdout=on_stdout, on_stderr=on_stderr,
                           on_exit=on_exit, after=after, decode=decode)
