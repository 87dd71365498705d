"""What the Streamable HTTP upstream adapter sends: requests, the two handshakes, cancellation, DELETE.

Era and session decisions stay in :mod:`routeiq_adapters.mcp.http_upstream`; this module only knows
how each message is framed and what a good answer to it looks like.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
import anyio

from routeiq_adapters.mcp import _jsonrpc as rpc
from routeiq_adapters.mcp._http_exchange import Answer, post_message
from routeiq_adapters.mcp._http_headers import HeaderBuilder, status_error
from routeiq_core.errors import UpstreamError
from routeiq_core.mcp import CURRENT_ERA, OnUpstreamMessage, UpstreamReply, UpstreamSession

__all__ = ["HttpWire"]

logger = logging.getLogger("routeiq.mcp")


class HttpWire:
    """Exchanges with one upstream endpoint; ids are the adapter's own counter.

    Args:
        name: The upstream's name, for messages.
        url: The MCP endpoint.
        http: The client session.
        headers: Builds every request's headers.
        max_bytes: The largest body or event accepted.
        client_info: The gateway's ``clientInfo``.
        capabilities: The gateway's own client capabilities.
    """

    def __init__(
        self,
        *,
        name: str,
        url: str,
        http: aiohttp.ClientSession,
        headers: HeaderBuilder,
        max_bytes: int,
        client_info: Mapping[str, Any],
        capabilities: Mapping[str, Any],
    ) -> None:
        self.name = name
        self.headers = headers
        self.client_info = dict(client_info)
        self.capabilities = dict(capabilities)
        self._url = url
        self._http = http
        self._max_bytes = max_bytes
        self._ids = itertools.count(1)

    async def current_request(
        self,
        method: str,
        params: dict[str, Any] | None,
        extra: Mapping[str, str],
        on_message: OnUpstreamMessage | None,
    ) -> UpstreamReply:
        """One self-contained current-era request, with its envelope and routing headers."""
        request_id = next(self._ids)
        params = rpc.envelope_params(params, self.client_info, self.capabilities)
        name = rpc.name_header(method, params)
        headers = self.headers.build(version=CURRENT_ERA, method=method, name=name, extra=extra)
        answer = await self._post(
            rpc.encode_request(request_id, method, params), headers, request_id, on_message
        )
        return self.reply_to(answer, request_id)

    async def legacy_request(
        self,
        method: str,
        params: dict[str, Any] | None,
        *,
        version: str | None,
        session: str | None,
        extra: Mapping[str, str],
        on_message: OnUpstreamMessage | None,
    ) -> tuple[int, Answer]:
        """One request on a legacy session: our id and the raw answer (the caller reads 404s).

        Cancelling it also sends the upstream ``notifications/cancelled`` (shielded, bounded).
        """
        request_id = next(self._ids)
        headers = self.headers.build(version=version, session=session, extra=extra)
        try:
            answer = await self._post(
                rpc.encode_request(request_id, method, params), headers, request_id, on_message
            )
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True), anyio.move_on_after(5.0):
                await self._cancel(request_id, version, session)
            raise
        return request_id, answer

    async def send(
        self, body: bytes, *, version: str | None, session: str | None, method: str | None
    ) -> None:
        """POST a notification or a response; the upstream must accept it (2xx)."""
        headers = self.headers.build(version=version, session=session, method=method)
        self.expect_accepted(await self._post(body, headers, None, None))

    async def discover(self) -> UpstreamSession | None:
        """``server/discover``: the upstream's description, or None when it does not speak the current era.

        Raises:
            UpstreamError: The upstream failed otherwise (unreachable, 5xx, garbage).
        """
        request_id = next(self._ids)
        params = rpc.envelope_params(None, self.client_info, self.capabilities)
        headers = self.headers.build(version=CURRENT_ERA, method="server/discover")
        answer = await self._post(
            rpc.encode_request(request_id, "server/discover", params), headers, request_id, None
        )
        if answer.response is not None and rpc.answers(answer.response, request_id):
            reply = rpc.reply_of(answer.response, self.name)
            return None if reply.result is None else rpc.session_from_discover(reply.result, self.name)
        if 400 <= answer.status < 500:
            return None  # unsupported version, missing session, unknown method: a legacy upstream
        raise status_error(self.name, answer)

    async def initialize(
        self, client_info: Mapping[str, Any], capabilities: Mapping[str, Any]
    ) -> UpstreamSession:
        """``initialize`` + ``notifications/initialized``: a new legacy session.

        Raises:
            UpstreamError: The upstream refused or negotiated a revision this gateway does not speak.
        """
        request_id = next(self._ids)
        body = rpc.encode_request(request_id, "initialize", rpc.initialize_params(client_info, capabilities))
        answer = await self._post(body, self.headers.build(version=None), request_id, None)
        reply = self.reply_to(answer, request_id)
        if reply.result is None:
            message = str((reply.error or {}).get("message", ""))[:200]
            raise UpstreamError(f"MCP upstream {self.name!r} refused to initialize: {message}")
        session = rpc.session_from_initialize(reply.result, answer.session_id, self.name)
        initialized = rpc.encode_notification("notifications/initialized", None)
        await self.send(
            initialized, version=session.protocol_version, session=session.session_id, method=None
        )
        return session

    async def delete(self, session: str, version: str | None) -> None:
        """DELETE a legacy session; failures are logged at debug and otherwise ignored."""
        headers = self.headers.build(version=version, session=session)
        try:
            async with self._http.delete(self._url, headers=headers, allow_redirects=False) as resp:
                resp.close()
        except (aiohttp.ClientError, OSError) as exc:
            logger.debug("MCP upstream %r: closing a session failed (%s)", self.name, type(exc).__name__)

    def reply_to(self, answer: Answer, request_id: int) -> UpstreamReply:
        """The reply an answer carries for our request.

        Raises:
            UpstreamError: The answer holds no response to it.
        """
        if answer.response is not None and rpc.answers(answer.response, request_id):
            return rpc.reply_of(answer.response, self.name)
        raise status_error(self.name, answer)

    def expect_accepted(self, answer: Answer) -> None:
        """Raise unless the answer's status is 2xx."""
        if not 200 <= answer.status < 300:
            raise status_error(self.name, answer)

    async def _cancel(self, request_id: int, version: str | None, session: str | None) -> None:
        body = rpc.encode_notification("notifications/cancelled", rpc.cancelled_params(request_id))
        try:
            await self.send(body, version=version, session=session, method=None)
        except UpstreamError as exc:
            logger.debug("%s (while cancelling a request)", exc.message)

    async def _post(
        self,
        body: bytes,
        headers: dict[str, str],
        request_id: int | None,
        on_message: OnUpstreamMessage | None,
    ) -> Answer:
        return await post_message(
            self._http,
            self._url,
            body,
            headers,
            upstream=self.name,
            request_id=request_id,
            on_message=on_message,
            max_bytes=self._max_bytes,
        )
