"""Exec for asyncio: ``await agent.exec.run(...)``, ``await agent.exec.start(...)`` and async output streams."""
from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Union

import httpx

from .. import _ops
from .._call import retry_delay
from .._session import MAX_RECONNECTS, STREAM_TIMEOUT, SessionCore
from .._sse import SSEParser
from ..errors import APIConnectionError
from ..types import CommandResult, ExecEvent, ExecExit, SessionInfo
from ._transport import AsyncTransport

__all__ = ["AsyncExec", "AsyncExecSession"]

Callback = Optional[Callable[[Any], Any]]


class AsyncExecSession:
    """The async twin of :class:`agentsandbox.ExecSession`: callbacks (plain functions or coroutines) run on a
    reader task; without callbacks, ``async for event in session`` reads the stream."""

    def __init__(self, transport: AsyncTransport, agent_id: str, info: SessionInfo, *, on_stdout: Callback = None,
                 on_stderr: Callback = None, on_exit: Callback = None, after: int = 0, decode: bool = True) -> None:
        self._t = transport
        self._core = SessionCore(agent_id, info, after, decode,
                                 {"on_stdout": on_stdout, "on_stderr": on_stderr, "on_exit": on_exit})
        self._closed = False
        self._task: Optional[asyncio.Task] = None
        if self._core.has_callbacks:
            self._task = asyncio.get_running_loop().create_task(self._pump())

    session_id = property(lambda self: self._core.session_id)
    pid = property(lambda self: self._core.info.pid)
    exit = property(lambda self: self._core.exit, doc="How the command ended, once the stream said so.")
    last_event_id = property(lambda self: self._core.last_event_id)

    def __aiter__(self) -> AsyncIterator[ExecEvent]:
        """Output events in order, ending with ``exit``."""
        if self._task is not None:
            raise RuntimeError("This session delivers its output to callbacks; iterate a session started without them.")
        return self._events()

    async def _events(self) -> AsyncIterator[ExecEvent]:
        core, failures = self._core, 0
        while core.exit is None and not self._closed:
            path, params, headers = core.stream_request()
            try:
                async with self._t.stream("GET", path, params=params, headers=headers,
                                          timeout=STREAM_TIMEOUT) as response:
                    parser = SSEParser()
                    async for chunk in response.aiter_bytes():
                        for event in parser.feed(chunk):
                            if core.accept(event):
                                failures = 0
                                yield event
                        if core.exit is not None or self._closed:
                            return
            except (APIConnectionError, httpx.StreamError):
                if self._closed:
                    return
            failures += 1
            if failures > MAX_RECONNECTS:
                raise APIConnectionError(f"Lost the output stream of {core.session_id} {MAX_RECONNECTS} times; "
                                         f"re-attach with exec.attach('{core.session_id}', after={core.last_event_id}).")
            await asyncio.sleep(retry_delay(failures - 1))

    async def _pump(self) -> None:
        async for event in self._events():
            target = self._core.dispatch(event)
            if target is not None:
                result = target[0](target[1])
                if inspect.isawaitable(result):
                    await result

    async def wait(self, timeout: Optional[float] = None) -> ExecExit:
        """Waits until the command ends (and, with callbacks, every event was delivered); ``TimeoutError``
        after ``timeout`` seconds."""
        if self._task is not None and not self._task.cancelled():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except asyncio.TimeoutError:
                raise TimeoutError(f"Session {self.session_id} still running after {timeout} s.") from None
            if self._core.exit is not None:
                return self._core.exit
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = 3600.0 if deadline is None else max(0.0, min(3600.0, deadline - time.monotonic()))
            info = await self._t.run(_ops.session_wait(self._core.agent_id, self.session_id, remaining))
            if not info.running:
                self._core.exit = self._core.exit or SessionCore.exit_from(info)
                return self._core.exit
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"Session {self.session_id} still running after {timeout} s.")

    async def send_stdin(self, data: Union[str, bytes], eof: bool = False) -> None:
        """Writes ``data`` to the command's stdin; ``eof=True`` closes it afterwards."""
        await self._t.run(_ops.session_stdin(self._core.agent_id, self.session_id, data, eof))

    async def close_stdin(self) -> None:
        """Closes the command's stdin."""
        await self.send_stdin("", eof=True)

    async def kill(self, signal: Union[str, int] = "SIGTERM") -> SessionInfo:
        """Signals the command's whole process group."""
        return await self._t.run(_ops.session_kill(self._core.agent_id, self.session_id, signal))

    async def info(self) -> SessionInfo:
        """The session's current state from the server."""
        return await self._t.run(_ops.session_info(self._core.agent_id, self.session_id))

    async def close(self) -> None:
        """Stops reading output at once; the command keeps running."""
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def __aenter__(self) -> "AsyncExecSession":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class AsyncExec:
    """``agent.exec`` of :class:`~agentsandbox.AsyncAgent` (see :class:`agentsandbox.Exec`)."""

    def __init__(self, transport: AsyncTransport, agent_id: str) -> None:
        self._t = transport
        self._agent_id = agent_id

    async def run(self, command: str, *, cwd: Optional[str] = None, env: Optional[Dict[str, str]] = None,
                  timeout: Optional[float] = None, stdin: Optional[str] = None) -> CommandResult:
        """Runs ``command`` to completion: ``exit_code``, ``stdout``, ``stderr`` (see ``Exec.run``)."""
        return await self._t.run(_ops.exec_run(self._agent_id, command, cwd, env, timeout, stdin))

    async def start(self, command: str, *, cwd: Optional[str] = None, env: Optional[Dict[str, str]] = None,
                    timeout: Optional[float] = None, stdin: bool = True, on_stdout: Callback = None,
                    on_stderr: Callback = None, on_exit: Callback = None, decode: bool = True) -> AsyncExecSession:
        """Starts ``command`` in the background (see ``Exec.start``); callbacks may be coroutines."""
        info = await self._t.run(_ops.exec_start(self._agent_id, command, cwd, env, timeout, stdin))
        return AsyncExecSession(self._t, self._agent_id, info, on_stdout=on_stdout, on_stderr=on_stderr,
                                on_exit=on_exit, decode=decode)

    async def list(self) -> List[SessionInfo]:
        """The agent's sessions."""
        return await self._t.run(_ops.exec_list(self._agent_id))

    async def get(self, session_id: str) -> SessionInfo:
        """One session's state."""
        return await self._t.run(_ops.session_info(self._agent_id, session_id))

    async def attach(self, session_id: str, *, on_stdout: Callback = None, on_stderr: Callback = None,
                     on_exit: Callback = None, after: int = 0, decode: bool = True) -> AsyncExecSession:
        """Re-attaches to a session, replaying its output after event ``after``."""
        info = await self.get(session_id)
        return AsyncExecSession(self._t, self._agent_id, info, on_stdout=on_stdout, on_stderr=on_stderr,
                                on_exit=on_exit, after=after, decode=decode)
