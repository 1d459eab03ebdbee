"""Asyncio I/O for :class:`Call` objects over one pooled ``httpx.AsyncClient``."""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Dict, Optional

import httpx

from .._call import Call, Settings, connection_error, finish, raise_for_status, retry_delay

__all__ = ["AsyncTransport"]


class AsyncTransport:
    """The async twin of :class:`agentsandbox._transport.Transport`."""

    def __init__(self, settings: Settings, http_client: Optional[httpx.AsyncClient] = None) -> None:
        self.settings = settings
        self.http = http_client or httpx.AsyncClient(
            base_url=settings.url, headers=settings.headers(), timeout=settings.httpx_timeout(),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))

    async def run(self, call: Call) -> Any:
        settings, attempt = self.settings, 0
        while True:
            try:
                response = await self.http.request(call.method, call.path, json=call.json, params=call.params,
                                                   timeout=settings.call_timeout(call))
            except httpx.TransportError as error:
                if settings.can_retry(call, attempt, error=error):
                    await asyncio.sleep(retry_delay(attempt))
                    attempt += 1
                    continue
                raise connection_error(error, settings) from error
            if response.status_code >= 500 and settings.can_retry(call, attempt, status=response.status_code):
                await asyncio.sleep(retry_delay(attempt))
                attempt += 1
                continue
            return finish(call, response, settings)

    @contextlib.asynccontextmanager
    async def stream(self, method: str, path: str, *, params: Optional[Dict[str, Any]] = None,
                     headers: Optional[Dict[str, str]] = None, content: Any = None,
                     timeout: Any = httpx.USE_CLIENT_DEFAULT) -> AsyncIterator[httpx.Response]:
        """A streamed response whose status is checked (an error status raises the SDK exception)."""
        try:
            async with self.http.stream(method, path, params=params, headers=headers, content=content,
                                        timeout=timeout) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise_for_status(response)
                yield response
        except httpx.TransportError as error:
            raise connection_error(error, self.settings) from error

    async def aclose(self) -> None:
        await self.http.aclose()
