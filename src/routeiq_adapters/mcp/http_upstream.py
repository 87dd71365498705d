"""The MCP upstream port over Streamable HTTP, in both protocol eras.

``start()`` finds the era: a ``server/discover`` at ``2026-07-28``; when the upstream refuses it
(``-32022``, a JSON-RPC error, any 4xx) the legacy ``initialize`` handshake, which may negotiate down
to an older session-based revision. Current era: one self-contained POST per message with the
``MCP-Protocol-Version``/``Mcp-Method``/``Mcp-Name`` headers and the ``_meta`` envelope. Legacy era:
``Mcp-Session-Id`` on every message; the adapter's own session is opened lazily and re-opened once,
transparently, when the upstream forgets a session (HTTP 404).

With ``legacy_sessions`` a legacy client gets a real legacy session even from a current-era upstream
that also speaks a session-based revision; a call carrying a session always goes the legacy way.
A session a legacy client opened (:meth:`HttpMcpUpstream.open_session`) is re-opened with the same
``clientInfo``/capabilities when this worker remembers them (the last 4096), else with the gateway's.
Request ids upstream are the adapter's own counter; the caller's ids never leave the gateway. The
``aiohttp`` session is injected (the container builds it behind the SSRF guard) and not closed here.
Not implemented: the legacy standalone GET stream and resuming a broken stream with ``Last-Event-ID``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, TypeVar

import aiohttp
import anyio
import msgspec

from routeiq_adapters.mcp import _jsonrpc as rpc
from routeiq_adapters.mcp._http_headers import HeaderBuilder
from routeiq_adapters.mcp._http_wire import HttpWire
from routeiq_core.errors import InvalidRequestError, UpstreamError, UpstreamTimeoutError
from routeiq_core.mcp import (
    CURRENT_ERA,
    LEGACY_ERA,
    OnUpstreamMessage,
    UpstreamCall,
    UpstreamReply,
    UpstreamSession,
    UpstreamState,
    UpstreamStatus,
)

__all__ = ["HttpMcpUpstream"]

logger = logging.getLogger("routeiq.mcp")

_T = TypeVar("_T")
EraSetting = Literal["auto", "2026-07-28", "2025-11-25"]
_CLOSE_TIMEOUT_S = 5.0
_REMEMBERED_SESSIONS = 4096


_Opened = tuple[dict[str, Any], dict[str, Any], str]
"""A legacy session this worker opened for a client: its clientInfo, capabilities and revision."""


class _SessionGone(Exception):
    """The upstream answered 404 to a legacy session id: it forgot the session."""


class HttpMcpUpstream:
    """Talks to one upstream MCP server over Streamable HTTP.

    Args:
        name: The upstream's slug from config.
        url: Its MCP endpoint.
        http: The client session to send with (built behind the SSRF guard by the container).
        headers: Static headers from config (credentials, secrets already resolved).
        timeout_s: The longest one call may take unless the call says otherwise.
        era: ``auto`` (detect), or the revision the upstream is known to speak.
        max_concurrency: The most requests in flight to this upstream at once.
        client_info: The gateway's ``clientInfo`` (name, version).
        capabilities: The client capabilities the gateway declares for its own session.
        max_message_bytes: The largest body or event accepted from the upstream.
        legacy_sessions: On a current-era upstream that also speaks a session-based revision (the
            official SDKs serve both on one endpoint), open a real legacy session for each legacy
            client, so server→client requests, logging and subscriptions work for it; requests that
            carry such a session then go the legacy way. Off: a current-era upstream answers
            :meth:`open_session` with its discover result (``session_id=None``).
    """

    def __init__(
        self,
        *,
        name: str,
        url: str,
        http: aiohttp.ClientSession,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
        era: EraSetting = "auto",
        max_concurrency: int = 32,
        client_info: Mapping[str, Any] | None = None,
        capabilities: Mapping[str, Any] | None = None,
        max_message_bytes: int = 16 * 1024 * 1024,
        legacy_sessions: bool = False,
    ) -> None:
        self._name = name
        self._wire = HttpWire(
            name=name,
            url=url,
            http=http,
            headers=HeaderBuilder(headers or {}),
            max_bytes=max_message_bytes,
            client_info=client_info or {"name": "routeiq", "version": "1"},
            capabilities=capabilities or {},
        )
        self._timeout_s = timeout_s
        self._era_setting = era
        self._slots = anyio.Semaphore(max_concurrency)
        self._version: str | None = None
        self._described: UpstreamSession | None = None
        self._own: UpstreamSession | None = None
        self._detect_lock = anyio.Lock()
        self._own_lock = anyio.Lock()
        self._legacy_sessions = legacy_sessions
        self._no_legacy = False
        self._opened: OrderedDict[str, _Opened] = OrderedDict()
        self._state: UpstreamState = "starting"
        self._last_error: str | None = None
        self._closed = False

    @property
    def name(self) -> str:
        """The upstream's slug from config."""
        return self._name

    def status(self) -> UpstreamStatus:
        """Its state as this worker sees it."""
        return UpstreamStatus(
            name=self._name,
            transport="http",
            state=self._state,
            era=self._version,
            last_error=self._last_error,
        )

    async def start(self) -> None:
        """Detect the era (and open the adapter's own legacy session). Never raises."""
        try:
            await self._bounded(self._ensure_era, None)
        except UpstreamError as exc:
            logger.warning("%s", exc.message)

    async def aclose(self) -> None:
        """End the adapter's own legacy session; the injected HTTP session stays open."""
        own, self._own = self._own, None
        if own is not None and own.session_id is not None:
            await self.close_session(own.session_id)
        self._closed, self._state = True, "stopped"

    async def open_session(
        self, *, client_info: Mapping[str, Any], capabilities: Mapping[str, Any]
    ) -> UpstreamSession:
        """Open an upstream session for a legacy client; a current-era upstream answers its discover."""

        async def run() -> UpstreamSession:
            await self._ensure_era()
            if self._version == CURRENT_ERA and self._described is not None:
                if not self._legacy_sessions or self._no_legacy:
                    return self._described
                try:
                    session = await self._wire.initialize(client_info, capabilities)
                except UpstreamError as exc:
                    self._no_legacy = not exc.retryable  # refused: it speaks the current era only
                    logger.info("MCP upstream %r opened no legacy session: %s", self._name, exc.message)
                    return self._described
            else:
                session = await self._wire.initialize(client_info, capabilities)
            if session.session_id is not None:
                self._remember(
                    session.session_id, (dict(client_info), dict(capabilities), session.protocol_version)
                )
            return session

        return await self._bounded(run, None)

    async def request(self, call: UpstreamCall, on_message: OnUpstreamMessage | None = None) -> UpstreamReply:
        """Send one request; relay what the upstream streams meanwhile to ``on_message``."""

        async def run() -> UpstreamReply:
            await self._ensure_era()
            if self._version == CURRENT_ERA and call.session is None:
                return await self._wire.current_request(call.method, call.params, call.headers, on_message)
            return await self._legacy_request(call, on_message)

        return await self._bounded(run, call.timeout_s)

    async def notify(self, method: str, params: dict[str, Any] | None, *, session: str | None = None) -> None:
        """Send one notification."""
        body = rpc.encode_notification(method, params)
        await self._bounded(lambda: self._send_without_answer(body, method, session), None, slot=False)

    async def reply(self, message: bytes, *, session: str | None = None) -> None:
        """Deliver a client's JSON-RPC response to a server→client request of the upstream."""
        try:
            parsed = rpc.decode_message(message, self._name)
        except UpstreamError:
            parsed = None
        if parsed is None or not parsed.is_response:
            raise InvalidRequestError("the reply to an MCP upstream must be one JSON-RPC response")
        await self._bounded(lambda: self._send_without_answer(message, None, session), None, slot=False)

    async def close_session(self, session: str) -> None:
        """End a legacy upstream session with DELETE (bounded); every error is ignored."""
        version = self._session_version(session)
        self._opened.pop(session, None)
        with anyio.move_on_after(min(self._timeout_s, _CLOSE_TIMEOUT_S)):
            await self._wire.delete(session, version)

    async def _bounded(
        self, work: Callable[[], Awaitable[_T]], timeout_s: float | None, *, slot: bool = True
    ) -> _T:
        # A slot is taken by requests only: a reply or notification may be sent from ``on_message``
        # while its request holds one, and must not wait for another.
        timeout = timeout_s if timeout_s is not None else self._timeout_s
        try:
            with anyio.fail_after(timeout):
                if slot:
                    async with self._slots:
                        result = await work()
                else:
                    result = await work()
        except TimeoutError:
            error = UpstreamTimeoutError(f"MCP upstream {self._name!r} did not answer within {timeout:g} s")
            self._failed(error)
            raise error from None
        except UpstreamError as exc:
            self._failed(exc)
            raise
        self._state, self._last_error = "up", None
        return result

    def _failed(self, error: UpstreamError) -> None:
        if not self._closed:
            self._state, self._last_error = "down", error.message

    def _detected(self) -> bool:
        return self._version is not None

    async def _ensure_era(self) -> None:
        if self._closed:
            raise UpstreamError(f"MCP upstream {self._name!r} was stopped")
        if self._detected():
            return
        async with self._detect_lock:
            if self._detected():  # another task detected it meanwhile
                return
            if self._era_setting != LEGACY_ERA:
                described = await self._wire.discover()
                if described is not None:
                    self._described, self._version = described, CURRENT_ERA
                    return
                if self._era_setting == CURRENT_ERA:
                    raise UpstreamError(f"MCP upstream {self._name!r} does not speak MCP {CURRENT_ERA}")
            own = await self._wire.initialize(self._wire.client_info, self._wire.capabilities)
            self._own, self._described, self._version = own, own, own.protocol_version

    async def _legacy_request(
        self, call: UpstreamCall, on_message: OnUpstreamMessage | None
    ) -> UpstreamReply:
        session = call.session if call.session is not None else (await self._own_session()).session_id
        try:
            return await self._legacy_attempt(call, session, self._session_version(session), on_message)
        except _SessionGone:
            logger.info("MCP upstream %r forgot a session; opening a new one", self._name)
        replaced: str | None = None
        if call.session is None:
            async with self._own_lock:
                if self._own is not None and self._own.session_id == session:
                    self._own = None
            fresh = await self._own_session()
        else:
            known = self._opened.pop(call.session, None)
            client_info, capabilities = (
                known[:2] if known else (self._wire.client_info, self._wire.capabilities)
            )
            fresh = await self._wire.initialize(client_info, capabilities)
            if fresh.session_id is not None:
                self._remember(fresh.session_id, (client_info, capabilities, fresh.protocol_version))
            replaced = fresh.session_id
        try:
            reply = await self._legacy_attempt(call, fresh.session_id, fresh.protocol_version, on_message)
        except _SessionGone:
            raise UpstreamError(f"MCP upstream {self._name!r} forgot a session it had just opened") from None
        return msgspec.structs.replace(reply, session=replaced) if replaced is not None else reply

    async def _legacy_attempt(
        self, call: UpstreamCall, session: str | None, version: str, on_message: OnUpstreamMessage | None
    ) -> UpstreamReply:
        request_id, answer = await self._wire.legacy_request(
            call.method,
            call.params,
            version=version,
            session=session,
            extra=call.headers,
            on_message=on_message,
        )
        if answer.status == 404 and session is not None and not rpc.answers(answer.response, request_id):
            raise _SessionGone
        return self._wire.reply_to(answer, request_id)

    async def _own_session(self) -> UpstreamSession:
        async with self._own_lock:
            if self._own is None:
                self._own = await self._wire.initialize(self._wire.client_info, self._wire.capabilities)
            return self._own

    async def _send_without_answer(self, body: bytes, method: str | None, session: str | None) -> None:
        await self._ensure_era()
        if self._version == CURRENT_ERA and session is None:
            await self._wire.send(body, version=CURRENT_ERA, session=None, method=method)
            return
        if session is None:
            session = (await self._own_session()).session_id
        await self._wire.send(body, version=self._session_version(session), session=session, method=method)

    def _session_version(self, session: str | None) -> str:
        """The revision of a legacy session: the upstream's, or the one a client's session agreed."""
        if self._version is not None and self._version != CURRENT_ERA:
            return self._version
        known = self._opened.get(session) if session is not None else None
        return known[2] if known is not None else LEGACY_ERA

    def _remember(self, session: str, opened: _Opened) -> None:
        self._opened[session] = opened
        while len(self._opened) > _REMEMBERED_SESSIONS:
            self._opened.popitem(last=False)
