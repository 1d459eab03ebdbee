"""``Agent``: one agent's workspace, tools, exec sessions and archives (blocking API)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

from . import _archive, _ops, tool_calls
from ._transport import Transport
from .errors import SandboxError
from .exec import Exec
from .files import Files
from .types import AgentInfo, CommandResult, GlobResult, GrepResult, ImportReport, Share

__all__ = ["Agent"]


class Agent:
    """One agent (a UUID). Get one with ``client.agent(id)``.

    Example::

        agent = client.agent()
        print(agent.exec.run("echo hi", cwd="src").stdout)
        agent.files.write("notes.txt", "hello\\n")
    """

    def __init__(self, transport: Transport, agent_id: str, info: Optional[AgentInfo] = None) -> None:
        self._t = transport
        self.id = agent_id
        #: What the server said when the agent was created or attached.
        self.created_info = info
        self.files = Files(transport, agent_id)
        self.exec = Exec(transport, agent_id)

    def __repr__(self) -> str:
        return f"Agent({self.id!r})"

    # Lifecycle

    def info(self) -> AgentInfo:
        """uid, state, disk use, creation and last use, and the agent's overrides."""
        return self._t.run(_ops.get_agent(self.id))

    def suspend(self) -> AgentInfo:
        """Freezes the agent's processes; its calls get :class:`~agentsandbox.AgentSuspendedError` until resumed."""
        return self._t.run(_ops.set_state(self.id, "suspend"))

    def resume(self) -> AgentInfo:
        """Thaws a suspended agent."""
        return self._t.run(_ops.set_state(self.id, "resume"))

    def delete(self) -> None:
        """Kills the agent's processes and removes its workspace and shares; later calls get
        :class:`~agentsandbox.AgentDeletedError` (410)."""
        self._t.run(_ops.delete_agent(self.id))

    # Tools

    def bash(self, command: str, *, timeout: Optional[float] = None, cwd: Optional[str] = None,
             env: Optional[Dict[str, str]] = None, stdin: Optional[str] = None) -> CommandResult:
        """Runs ``command`` with the ``bash`` tool (``cwd`` relative to the workspace). A non-zero exit is a
        normal result; a timeout gives ``ok == False``, ``timed_out == True``, exit code 124."""
        return self._t.run(_ops.bash(self.id, command, timeout, cwd, env, stdin))

    def glob(self, pattern: str, *, root_dir: Optional[str] = None, max_results: Optional[int] = None) -> GlobResult:
        """Workspace paths matching ``pattern`` (``*``, ``?``, ``[...]``, ``{a,b}``, ``**``), newest first."""
        return self._t.run(_ops.glob(self.id, pattern, root_dir, max_results))

    def grep(self, pattern: str, *, path: Optional[str] = None, include: Optional[str] = None,
             context_lines: Optional[int] = None, output_mode: Optional[str] = None,
             case_insensitive: Optional[bool] = None, max_results: Optional[int] = None,
             multiline: Optional[bool] = None) -> GrepResult:
        """Searches file contents with ripgrep (``pattern`` is a regex; ``include`` a file glob)."""
        options = dict(path=path, include=include, context_lines=context_lines, output_mode=output_mode,
                       case_insensitive=case_insensitive, max_results=max_results, multiline=multiline)
        return self._t.run(_ops.grep(self.id, pattern, options))

    def share(self, path: str, *, expires_in: Optional[float] = None) -> Share:
        """Publishes a snapshot of ``path`` at an unguessable URL for ``expires_in`` seconds (default 7 days)."""
        return self._t.run(_ops.share(self.id, path, expires_in))

    def shares(self) -> List[Share]:
        """The agent's live shares."""
        return self._t.run(_ops.list_shares(self.id))

    def revoke_share(self, token: str) -> None:
        """Revokes a share by its token."""
        self._t.run(_ops.revoke_share(self.id, token))

    # Archives

    def export(self, destination: _archive.Destination, *, format: str = "tar.gz",
               progress: _archive.Progress = None) -> int:
        """Streams the workspace as an archive (``tar.gz``, ``tar`` or ``zip``) into ``destination`` (a path or a
        binary file object), chunk by chunk; ``progress(bytes_so_far, None)``. Returns the bytes written."""
        params = _archive.export_params(format)
        handle, owned = _archive.open_destination(destination)
        written = 0
        try:
            with self._t.stream("GET", f"{_ops.agent_path(self.id)}/archive", params=params) as response:
                for chunk in response.iter_bytes(_archive.CHUNK):
                    handle.write(chunk)
                    written += len(chunk)
                    if progress is not None:
                        progress(written, None)
        finally:
            if owned:
                handle.close()
        return written

    def import_(self, source: _archive.Source, *, mode: str = "merge",
                progress: _archive.Progress = None) -> ImportReport:
        """Streams an archive (a path or a binary file object; tar, tar.gz or zip) into the workspace.
        ``mode="replace"`` empties the workspace first. ``progress(bytes_sent, total_or_None)``."""
        params = _archive.import_params(mode)
        handle, owned, size = _archive.open_source(source)
        try:
            body = _archive.read_chunks(handle, size, progress)
            with self._t.stream("PUT", f"{_ops.agent_path(self.id)}/archive", params=params, content=body,
                                headers=_archive.upload_headers(size), timeout=None) as response:
                response.read()
                return ImportReport.from_json(response.json())
        finally:
            if owned:
                handle.close()

    # Framework glue

    def tool_definitions(self, format: str = "openai") -> List[Dict[str, Any]]:
        """The tools as the model API expects them: ``format`` is ``openai``, ``anthropic`` or ``json-schema``."""
        return self._t.run(_ops.tool_definitions(format))

    def run_tool_calls(self, calls: Any, *, max_concurrency: int = 8) -> List[Dict[str, Any]]:
        """Runs a model's tool calls (Anthropic ``tool_use`` blocks, OpenAI Chat ``tool_calls``, OpenAI
        Responses ``function_call`` items, or the assistant message holding them) concurrently and returns the
        tool-result messages to append, in the calls' order (see :mod:`agentsandbox.tool_calls`).

        A call the model got wrong (bad arguments, unknown tool) becomes an error result for the model;
        failures the application must handle (suspended, deleted, 429, auth) raise."""
        parsed = tool_calls.parse_calls(calls)
        if not parsed:
            return []

        def one(call: tool_calls.ParsedCall) -> Dict[str, Any]:
            if call.problem:
                return tool_calls.error_envelope("INVALID_ARGUMENTS", call.problem)
            try:
                return self._t.run(_ops.call_tool(self.id, call.name, call.input))
            except SandboxError as error:
                envelope = tool_calls.envelope_for_error(error)
                if envelope is None:
                    raise
                return envelope

        if len(parsed) == 1:
            results = [one(parsed[0])]
        else:
            with ThreadPoolExecutor(max_workers=min(max_concurrency, len(parsed))) as pool:
                results = list(pool.map(one, parsed))
        return tool_calls.build_messages(parsed, results)
