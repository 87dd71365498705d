"""Routing what one stdio connection carries to the requests waiting on it.

A stdio upstream has one connection shared by every request, so each message must find its request:

- a response goes to the request with its id (the adapter's own ids);
- ``notifications/progress`` goes to the request whose progress token it carries: the adapter sends
  its own request id as the token (two clients may both pick token ``1``) and puts the client's token
  back before relaying;
- any other notification or a server→client request (logging, sampling, elicitation, roots) cannot
  name its request in the protocol, so it goes to the request in flight when exactly one is;
  otherwise a notification is dropped (debug log) and a request is refused with a JSON-RPC error so
  the upstream does not wait for an answer that cannot come.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import anyio
import msgspec

from routeiq_adapters.mcp._jsonrpc import Incoming
from routeiq_core.errors import UpstreamError

__all__ = ["Waiter", "Waiters", "own_progress_token"]

logger = logging.getLogger("routeiq.mcp")

_MAX_QUEUED = 10_000


class Waiter:
    """One request waiting for its answer: the messages for it, in order, then its response."""

    def __init__(self, request_id: int, client_token: Any) -> None:
        self.request_id = request_id
        self.client_token = client_token
        self.messages: deque[bytes] = deque()
        self.response: Incoming | None = None
        self.failure: UpstreamError | None = None
        self._wake = anyio.Event()

    @property
    def done(self) -> bool:
        """The response or a failure arrived."""
        return self.response is not None or self.failure is not None

    def push(self, data: bytes) -> None:
        """Queue one message for the request (dropped past a bound: the request's reader is stuck)."""
        if len(self.messages) < _MAX_QUEUED:
            self.messages.append(data)
        self._wake.set()

    def finish(self, response: Incoming | None, failure: UpstreamError | None = None) -> None:
        """Hand over the response (or the failure) and wake the request."""
        self.response, self.failure = response, failure
        self._wake.set()

    async def wait(self) -> None:
        """Sleep until something arrives."""
        if not self.messages and not self.done:
            self._wake = anyio.Event()
            await self._wake.wait()


class Waiters:
    """The requests in flight on one connection, by the adapter's request id."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream
        self._by_id: dict[int, Waiter] = {}

    def add(self, waiter: Waiter) -> None:
        """Register a request before it is written."""
        self._by_id[waiter.request_id] = waiter

    def remove(self, request_id: int) -> None:
        """Forget a request (answered, failed or cancelled)."""
        self._by_id.pop(request_id, None)

    def fail_all(self, error: UpstreamError) -> None:
        """Fail every request in flight (the connection is gone)."""
        waiting, self._by_id = self._by_id, {}
        for waiter in waiting.values():
            waiter.finish(None, error)

    def route(self, message: Incoming, line: bytes) -> bytes | None:
        """Deliver one message; returns an error response to send back for a request nobody can take."""
        if message.is_response:
            waiter = self._by_id.get(message.id) if type(message.id) is int else None
            if waiter is not None:
                waiter.finish(message)
            else:
                logger.debug("MCP upstream %r answered a request nobody waits for", self._upstream)
            return None
        if message.method == "notifications/progress" and self._route_progress(message):
            return None
        only = next(iter(self._by_id.values())) if len(self._by_id) == 1 else None
        if only is not None:
            only.push(line)
            return None
        if message.id is msgspec.UNSET:
            logger.debug(
                "MCP upstream %r: dropped %s (no single request to relate it to)",
                self._upstream,
                message.method,
            )
            return None
        error = {"code": -32603, "message": "the gateway cannot relate this request to one of its clients"}
        return msgspec.json.encode({"jsonrpc": "2.0", "id": message.id, "error": error})

    def _route_progress(self, message: Incoming) -> bool:
        params = message.params
        token = params.get("progressToken") if isinstance(params, dict) else None
        waiter = self._by_id.get(token) if type(token) is int else None
        if waiter is None or waiter.client_token is None:
            return False
        restored = dict(params)
        restored["progressToken"] = waiter.client_token
        waiter.push(msgspec.json.encode({"jsonrpc": "2.0", "method": message.method, "params": restored}))
        return True


def own_progress_token(params: dict[str, Any] | None, request_id: int) -> tuple[dict[str, Any] | None, Any]:
    """Params with the progress token replaced by ``request_id``, and the client's token (or None)."""
    meta = params.get("_meta") if params is not None else None
    if params is None or not isinstance(meta, dict) or meta.get("progressToken") is None:
        return params, None
    client_token = meta["progressToken"]
    return {**params, "_meta": {**meta, "progressToken": request_id}}, client_token
