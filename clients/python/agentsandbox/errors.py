"""Exceptions: one per request-level failure, each carrying the server's ``error_code``, HTTP status and sentence.

The server answers every failure with its envelope ``{"status": "error", "error": SENTENCE, "error_code":
CODE, ...}``. A request-level failure travels with an HTTP error status and becomes one of the exceptions
below; a tool-level failure (HTTP 200, ``status: "error"``) becomes :class:`ToolCallError` for the file tools
(unless the client was made with ``raise_on_tool_error=False``) and a result with ``ok == False`` for ``bash``
and ``exec.run``.

Example::

    try:
        agent.files.read("missing.txt")
    except agentsandbox.ToolCallError as error:
        print(error.error_code, error.message)   # FILE_NOT_FOUND  File not found: 'missing.txt'. ...
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Type

__all__ = [
    "SandboxError", "APIConnectionError", "BadRequestError", "AuthenticationError", "NotFoundError",
    "ConflictError", "AgentSuspendedError", "SessionNotRunningError", "AgentDeletedError",
    "PayloadTooLargeError", "RateLimitError", "ServerError", "ToolCallError", "error_for_status",
]


class SandboxError(Exception):
    """Base of every error this SDK raises.

    Attributes:
        message: the server's sentence (it says how to fix the problem).
        error_code: the stable code, e.g. ``AGENT_SUSPENDED``; ``None`` for transport failures.
        status_code: the HTTP status (200 for tool-level failures); ``None`` for transport failures.
        body: the decoded response body (the envelope), when there was one.
    """

    def __init__(self, message: str, *, error_code: Optional[str] = None, status_code: Optional[int] = None,
                 body: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.status_code = status_code
        self.body = body or {}

    def __str__(self) -> str:
        if self.error_code:
            return f"{self.error_code} (HTTP {self.status_code}): {self.message}"
        return self.message


class APIConnectionError(SandboxError):
    """The server could not be reached, or the connection broke (after any safe retries)."""


class BadRequestError(SandboxError):
    """400: malformed JSON or a field with a wrong value; the sentence names the field."""


class AuthenticationError(SandboxError):
    """401: the API key is missing or wrong (set ``AGENT_SANDBOX_API_KEY`` or pass ``api_key=``)."""


class NotFoundError(SandboxError):
    """404: no such agent, tool, session, share or route."""


class ConflictError(SandboxError):
    """409: the request conflicts with the current state (agent suspended, session not running, ...)."""


class AgentSuspendedError(ConflictError):
    """409 ``AGENT_SUSPENDED``: resume the agent first (``agent.resume()``)."""


class SessionNotRunningError(ConflictError):
    """409 ``SESSION_NOT_RUNNING`` / ``STDIN_CLOSED``: the exec session has ended or its stdin is closed."""


class AgentDeletedError(SandboxError):
    """410 ``AGENT_DELETED``: the agent was deleted; ``client.agent(id)`` creates it again."""


class PayloadTooLargeError(SandboxError):
    """413: the request body (or an imported archive) is over the server's limit."""


class RateLimitError(SandboxError):
    """429: the agent is over its concurrency limit (calls or exec sessions); retry when one finishes."""


class ServerError(SandboxError):
    """5xx: the server failed (or, 503, a node or the uid range is unavailable)."""


class ToolCallError(SandboxError):
    """A tool ran and failed (HTTP 200, ``status: "error"``), e.g. ``FILE_NOT_FOUND``, ``EDIT_NOT_UNIQUE``.

    Raised by the file tools, glob, grep and share unless the client has ``raise_on_tool_error=False``.
    """


_BY_STATUS: Dict[int, Type[SandboxError]] = {
    400: BadRequestError, 401: AuthenticationError, 404: NotFoundError, 409: ConflictError,
    410: AgentDeletedError, 413: PayloadTooLargeError, 429: RateLimitError,
}
_BY_CODE: Dict[str, Type[SandboxError]] = {
    "AGENT_SUSPENDED": AgentSuspendedError, "SESSION_NOT_RUNNING": SessionNotRunningError,
    "STDIN_CLOSED": SessionNotRunningError,
}


def error_for_status(status_code: int, body: Any, fallback_text: str = "") -> SandboxError:
    """The exception for an HTTP error response (``body``: the decoded JSON, or ``None`` if it was not JSON)."""
    envelope = body if isinstance(body, dict) else {}
    code = envelope.get("error_code")
    message = envelope.get("error") or fallback_text.strip() or f"HTTP {status_code}"
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status_code)
    if cls is None:
        cls = ServerError if status_code >= 500 else SandboxError
    return cls(message, error_code=code, status_code=status_code, body=envelope)
