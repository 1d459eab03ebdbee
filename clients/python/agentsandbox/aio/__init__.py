"""The asyncio API: :class:`AsyncClient`, :class:`AsyncAgent`, :class:`AsyncExecSession`."""
from .agent import AsyncAgent
from .client import AsyncAgents, AsyncClient
from .exec import AsyncExec, AsyncExecSession
from .files import AsyncFiles

__all__ = ["AsyncClient", "AsyncAgents", "AsyncAgent", "AsyncExec", "AsyncExecSession", "AsyncFiles"]
