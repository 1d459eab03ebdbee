"""What one API call is, independent of sync or async I/O: the request, how to read the reply, and whether a
retry is safe. Both transports run the same :class:`Call` objects, so the two clients cannot drift apart."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

import httpx

from .errors import APIConnectionError, ToolCallError, error_for_status

__all__ = ["Call", "Settings", "finish", "raise_for_status", "connection_error", "retry_delay", "RETRY_STATUSES"]

RETRY_STATUSES = frozenset({502, 503, 504})


def _identity(body: Any) -> Any:
    return body


@dataclass
class Call:
    """One request: ``parse`` turns the decoded JSON body into the result; ``idempotent`` allows retries
    after the request may have reached the server; ``tool`` marks a file-tool envelope whose
    ``status: "error"`` becomes :class:`ToolCallError`; ``timeout`` overrides the read timeout."""

    method: str
    path: str
    json: Any = None
    params: Optional[Dict[str, Any]] = None
    parse: Callable[[Any], Any] = _identity
    idempotent: bool = False
    tool: bool = False
    timeout: Optional[float] = None


@dataclass
class Settings:
    """Client settings resolved from arguments and the environment."""

    url: str
    api_key: Optional[str]
    timeout: float
    max_retries: int
    raise_on_tool_error: bool

    @classmethod
    def resolve(cls, url: Optional[str], api_key: Optional[str], timeout: float, max_retries: int,
                raise_on_tool_error: bool) -> "Settings":
        url = url or os.environ.get("AGENT_SANDBOX_URL") or "http://127.0.0.1:8080"
        api_key = api_key if api_key is not None else os.environ.get("AGENT_SANDBOX_API_KEY")
        return cls(url.rstrip("/"), api_key, timeout, max_retries, raise_on_tool_error)

    def headers(self) -> Dict[str, str]:
        headers = {"user-agent": "agentsandbox-python/0.1"}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))

    def call_timeout(self, call: Call) -> Any:
        """The httpx timeout argument for ``call``: the client's unless the call needs longer."""
        if call.timeout is None:
            return httpx.USE_CLIENT_DEFAULT
        return httpx.Timeout(call.timeout, connect=min(self.timeout, 10.0))

    def can_retry(self, call: Call, attempt: int, error: Optional[Exception] = None,
                  status: Optional[int] = None) -> bool:
        """Retry only what is safe: a connection that never opened (the request was not sent), or an
        idempotent call whose connection broke or that met a 502/503/504."""
        if attempt >= self.max_retries:
            return False
        if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
            return True
        if not call.idempotent:
            return False
        return error is not None or status in RETRY_STATUSES


def retry_delay(attempt: int) -> float:
    """Back-off before retry ``attempt`` (0-based): 0.2 s, 0.4 s, 0.8 s, ..."""
    return 0.2 * (2 ** attempt)


def raise_for_status(response: httpx.Response) -> None:
    """Raises the SDK exception for an HTTP error response whose body has been read."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    raise error_for_status(response.status_code, body, response.text[:500])


def finish(call: Call, response: httpx.Response, settings: Settings) -> Any:
    """The result of ``call`` from its (fully read) response, or the exception it stands for."""
    raise_for_status(response)
    body = response.json()
    if call.tool and settings.raise_on_tool_error and isinstance(body, dict) and body.get("status") == "error":
        raise ToolCallError(body.get("error") or "The tool failed.", error_code=body.get("error_code"),
                            status_code=response.status_code, body=body)
    return call.parse(body)


def connection_error(error: Exception, settings: Settings) -> APIConnectionError:
    """The SDK exception for a transport failure."""
    return APIConnectionError(f"Could not talk to the AgentSandbox server at {settings.url}: {error!r}")
