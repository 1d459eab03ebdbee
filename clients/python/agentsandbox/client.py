"""``Client``: the blocking entry point (one pooled HTTP connection set per client; thread-safe)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import httpx

from . import _ops
from ._call import Settings
from ._transport import Transport
from .agent import Agent
from .types import AgentInfo

__all__ = ["Client", "Agents"]


class Agents:
    """``client.agents``: the server's agents."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(self) -> List[AgentInfo]:
        """Every agent the server knows (active and suspended)."""
        return self._t.run(_ops.list_agents())

    def get(self, agent_id: str) -> AgentInfo:
        """One agent's state (:class:`~agentsandbox.NotFoundError` if unknown)."""
        return self._t.run(_ops.get_agent(agent_id))


class Client:
    """Talks to an AgentSandbox server.

    ``url`` and ``api_key`` default to ``AGENT_SANDBOX_URL`` and ``AGENT_SANDBOX_API_KEY``. ``timeout`` is the
    per-request read timeout in seconds (commands get their own timeout plus a margin). ``max_retries``
    applies only where a retry is safe: GETs, idempotent calls, and connections that never opened.
    ``raise_on_tool_error=False`` makes file tools return results with ``ok == False`` instead of raising.

    Example::

        from agentsandbox import Client
        with Client() as client:
            agent = client.agent()
            result = agent.exec.run("python3 --version")
            print(result.exit_code, result.stdout)
    """

    def __init__(self, url: Optional[str] = None, api_key: Optional[str] = None, *, timeout: float = 60.0,
                 max_retries: int = 2, raise_on_tool_error: bool = True,
                 http_client: Optional[httpx.Client] = None) -> None:
        self.settings = Settings.resolve(url, api_key, timeout, max_retries, raise_on_tool_error)
        self._t = Transport(self.settings, http_client)
        self.agents = Agents(self._t)

    @property
    def url(self) -> str:
        return self.settings.url

    def agent(self, id: Optional[str] = None, *, network: Optional[str] = None,
              limits: Optional[Dict[str, Any]] = None) -> Agent:
        """Creates the agent (a new UUID when ``id`` is None) or attaches to it if it exists.
        ``network``: ``"host"`` or ``"none"``; ``limits``: ``pids_max``, ``memory_bytes``, ``cpu_weight``,
        ``max_concurrent_calls``."""
        info = self._t.run(_ops.create_agent(id, network, limits))
        return Agent(self._t, info.agent_id, info)

    def tool_definitions(self, format: str = "openai") -> List[Dict[str, Any]]:
        """Tool definitions for function calling: ``openai``, ``anthropic`` or ``json-schema``."""
        return self._t.run(_ops.tool_definitions(format))

    def health(self) -> bool:
        """True when ``/healthz`` answers 200."""
        try:
            return self._t.http.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        """Closes the connection pool."""
        self._t.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
