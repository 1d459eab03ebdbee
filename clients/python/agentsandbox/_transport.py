"""Blocking I/O for :class:`Call` objects over one pooled ``httpx.Client`` (connections are reused)."""
from __future__ import annotations

import contextlib
import time
from typing import Any, Dict, Iterator, Optional

import httpx

from ._call import Call, Settings, connection_error, finish, raise_for_status, retry_delay

__all__ = ["Transport"]


class Transport:
    """Runs calls with the client's settings; retries only what :meth:`Settings.can_retry` allows."""

    def __init__(self, settings: Settings, http_client: Optional[httpx.Client] = None) -> None:
        self.settings = settings
        self.http = http_client or httpx.Client(
            base_url=settings.url, headers=settings.headers(), timeout=settings.httpx_timeout(),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))

    def run(self, call: Call) -> Any:
        settings, attempt = self.settings, 0
        while True:
            try:
                response = self.http.request(call.method, call.path, json=call.json, params=call.params,
                                             timeout=settings.call_timeout(call))
            except httpx.TransportError as error:
                if settings.can_retry(call, attempt, error=error):
                    time.sleep(retry_delay(attempt))
                    attempt += 1
                    continue
                raise connection_error(error, settings) from error
            if response.status_code >= 500 and settings.can_retry(call, attempt, status=response.status_code):
                time.sleep(retry_delay(attempt))
                attempt += 1
                continue
            return finish(call, response, settings)

    @contextlib.contextmanager
    def stream(self, method: str, path: str, *, params: Optional[Dict[str, Any]] = None,
               headers: Optional[Dict[str, str]] = None, content: Any = None,
               timeout: Any = httpx.USE_CLIENT_DEFAULT) -> Iterator[httpx.Response]:
        """A streamed response whose status is checked (an error status raises the SDK exception)."""
        try:
            with self.http.stream(method, path, params=params, headers=headers, content=content,
                                  timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise_for_status(response)
                yield response
        except httpx.TransportError as error:
            raise connection_error(error, self.settings) from error

    def close(self) -> None:
        self.http.close()
