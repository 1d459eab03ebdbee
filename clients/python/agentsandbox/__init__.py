"""AgentSandbox Python SDK: per-agent workspaces, tools, exec sessions and archives over HTTP.

Quick start::

    from agentsandbox import Client

    client = Client()                        # AGENT_SANDBOX_URL, AGENT_SANDBOX_API_KEY
    agent = client.agent()                   # a new agent (or client.agent("<uuid>") to attach)
    result = agent.exec.run("ls -la", cwd="", timeout=30)
    print(result.exit_code, result.stdout)

``AsyncClient`` has the same surface with ``await``.
"""
from .agent import Agent
from .aio import AsyncAgent, AsyncClient, AsyncExecSession
from .client import Agents, Client
from .errors import (AgentDeletedError, AgentSuspendedError, APIConnectionError, AuthenticationError,
                     BadRequestError, ConflictError, NotFoundError, PayloadTooLargeError, RateLimitError,
                     SandboxError, ServerError, SessionNotRunningError, ToolCallError)
from .exec import Exec, ExecSession
from .files import Files
from .types import (AgentInfo, BashResult, CommandResult, EditResult, ExecEvent, ExecExit, ExecResult,
                    FileContent, GlobResult, GrepMatch, GrepResult, ImportReport, SessionInfo, Share, ToolResult,
                    WriteResult)

__version__ = "0.1.0"

__all__ = [
    "Client", "AsyncClient", "Agents", "Agent", "AsyncAgent", "Files", "Exec", "ExecSession", "AsyncExecSession",
    "SandboxError", "APIConnectionError", "BadRequestError", "AuthenticationError", "NotFoundError",
    "ConflictError", "AgentSuspendedError", "SessionNotRunningError", "AgentDeletedError", "PayloadTooLargeError",
    "RateLimitError", "ServerError", "ToolCallError",
    "AgentInfo", "ToolResult", "CommandResult", "BashResult", "ExecResult", "FileContent", "WriteResult",
    "EditResult", "GlobResult", "GrepMatch", "GrepResult", "Share", "ImportReport", "SessionInfo", "ExecExit",
    "ExecEvent",
]
