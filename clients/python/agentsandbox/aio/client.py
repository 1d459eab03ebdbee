"""``AsyncClient``: the asyncio entry point, with the same surface as :class:`agentsandbox.Client`."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import httpx

from .. import _ops
from .._call import Settings
from ..types import AgentInfo
from ._transport import AsyncTransport
from .agent import AsyncAgent

__all__ = ["AsyncClient", "AsyncAgents"]


class AsyncAgents:
    """``client.agents`` of an :class:`AsyncClient`."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport

    async def list(self) -> List[AgentInfo]:
        """Every agent the server knows."""
        return await self._t.run(_ops.list_agents())

    async def get(self, agent_id: str) -> AgentInfo:
        """One agent's state."""
        return await self._t.run(_ops.get_agent(agent_id))


class AsyncClient:
    """Talks to an AgentSandbox server from asyncio code (arguments as :class:`agentsandbox.Client`).

    Example::

        async with AsyncClient() as client:
            agent = await client.agent()
            print((await agent.exec.run("echo hi")).stdout)
    """

    def __init__(self, url: Optional[str] = None, api_key: Optional[str] = None, *, timeout: float = 60.0,
                 max_retries: int = 2, raise_on_tool_error: bool = True,
                 http_client: Optional[httpx.AsyncClient] = None) -> None:
        self.settings = Settings.resolve(url, api_key, timeout, max_retries, raise_on_tool_error)
        self._t = AsyncTransport(self.settings, http_client)
        self.agents = AsyncAgents(self._t)

    @property
    def url(self) -> str:
        return self.settings.url

    async def agent(self, id: Optional[str] = None, *, network: Optional[str] = None,
                    limits: Optional[Dict[str, Any]] = None) -> AsyncAgent:
        """Creates the agent (a new UUID when ``id`` is None) or attaches to it if it exists."""
        info = await self._t.run(_ops.create_agent(id, network, limits))
        return AsyncAgent(self._t, info.agent_id, info)

    async def tool_definitions(self, format: str = "openai") -> List[Dict[str, Any]]:
        """Tool definitions for function calling: ``openai``, ``anthropic`` or ``json-schema``."""
        return await self._t.run(_ops.tool_definitions(format))

    async def health(self) -> bool:
        """True when ``/healthz`` answers 200."""
        try:
            return (await self._t.http.get("/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    async def aclose(self) -> None:
        """Closes the connection pool."""
        await self._t.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
