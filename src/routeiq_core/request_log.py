"""The request log port: one structured record per call, written off the hot path.

The call use case builds a :class:`RequestRecord` when a call ends (answered, refused or failed) and
hands it to a :class:`RequestLog`, which only buffers; an adapter writes batches in the background
(SQLite by default, PostgreSQL for several nodes) and prunes what is older than its retention.
``GET /admin/requests`` and the dashboard read it back through :meth:`RequestLog.query`.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import anyio
import msgspec

from routeiq_core.access.principal import Principal
from routeiq_core.access.spend import LATEST_TIME
from routeiq_core.context import CallContext
from routeiq_core.errors import InvalidRequestError, RouteIQError, ServiceUnavailableError

MAX_PAGE_SIZE = 500
"""The most records one query returns."""


class RequestRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What one call did.

    Attributes:
        at: Unix time the call arrived.
        request_id: The surface's request id (``X-Request-ID``).
        surface: The protocol it arrived in (``openai``, ...).
        operation: chat, completions, embeddings, ...
        status: The HTTP-style status of its outcome (200, or the error's status).
        error_type: The error's type (``rate_limit_error``, ...) when it failed.
        key_id: The caller's virtual key id (None: master key or anonymous).
        team: The caller's team.
        model: The model name the client asked for.
        model_group: The model group that served it (a wildcard group's pattern).
        deployment_id: The deployment that served it (or the last one tried).
        attempts: Upstream attempts made.
        latency_ms: From arrival to the end of the answer (a stream's last frame).
        ttft_ms: For a stream, from arrival to its first frame.
        prompt_tokens: Input tokens (reported, or estimated: see ``usage_estimated``).
        completion_tokens: Output tokens.
        usage_estimated: True when the upstream reported no usage.
        cost: What the call cost.
        route_reason: Why it went where it went (strategy; a routed name's router and reason).
        trace_id: The W3C trace id, when tracing is on.
        source_ip: The client's address.
        request_body: The request, when bodies are logged (redacted when PII redaction is on).
        response_body: The answer, when bodies are logged and it was not streamed.
        response_id: The answer's id (``chatcmpl-…``, ``resp_…``), when it had one: feedback may name
            the call by it.
        router: The routed name whose trained router chose the model group (``auto``), if any.
        router_version: The registry version of that router (a canary's candidate or the promoted one).
    """

    at: float
    request_id: str | None = None
    surface: str = ""
    operation: str = ""
    status: int = 200
    error_type: str | None = None
    key_id: str | None = None
    team: str | None = None
    model: str = ""
    model_group: str | None = None
    deployment_id: str | None = None
    attempts: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_estimated: bool = False
    cost: float = 0.0
    route_reason: str | None = None
    trace_id: str | None = None
    source_ip: str | None = None
    request_body: str | None = None
    response_body: str | None = None
    response_id: str | None = None
    router: str | None = None
    router_version: int | None = None


def record_of(
    ctx: CallContext,
    *,
    ended_at: float,
    status: int,
    error_type: str | None = None,
    request_body: str | None = None,
    response_body: str | None = None,
    response_id: str | None = None,
) -> RequestRecord:
    """The record of a call from its context (``ended_at`` is Unix time, as ``ctx.received_at``)."""
    route, usage, routed = ctx.route, ctx.usage, ctx.routed
    deployment = ctx.deployment
    reason = route.strategy if route is not None else None
    if routed is not None:
        reason = f"{routed.router}: {routed.reason}" + (f"; {reason}" if reason else "")
    first = ctx.first_chunk_at
    return RequestRecord(
        at=ctx.received_at,
        request_id=ctx.request_id,
        surface=ctx.surface,
        operation=str(ctx.operation),
        status=status,
        error_type=error_type,
        key_id=ctx.principal.key_id,
        team=ctx.principal.team,
        model=ctx.requested_model or ctx.model,
        model_group=route.model_group if route is not None else ctx.configured_group,
        deployment_id=route.deployment_id if route is not None else (deployment.id if deployment else None),
        attempts=ctx.attempts,
        latency_ms=max(0.0, (ended_at - ctx.received_at) * 1000.0),
        ttft_ms=None if first is None else max(0.0, (first - ctx.received_at) * 1000.0),
        prompt_tokens=usage.prompt_tokens if usage is not None else 0,
        completion_tokens=usage.completion_tokens if usage is not None else 0,
        usage_estimated=ctx.usage_estimated,
        cost=ctx.cost,
        route_reason=reason,
        trace_id=ctx.trace_id,
        source_ip=ctx.source_ip,
        request_body=request_body,
        response_body=response_body,
        response_id=ctx.response_id or response_id,
        router=routed.router if routed is not None else None,
        router_version=routed.version if routed is not None else None,
    )


class RequestQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which records to read, newest first.

    Attributes:
        key_id: Only this key's calls.
        team: Only this team's calls.
        model: Only calls whose model group (or requested model) is this.
        status: Only this status; ``status_class`` 2, 4 or 5 for a whole class.
        since: Only calls that arrived at or after this Unix time.
        until: Only calls that arrived before this Unix time.
        request_id: Only the call with this request id.
        response_id: Only the call whose answer had this id.
        limit: At most this many records.
        cursor: The ``next_cursor`` of the previous page.
    """

    key_id: str | None = None
    team: str | None = None
    model: str | None = None
    status: int | None = None
    status_class: int | None = None
    since: float | None = None
    until: float | None = None
    request_id: str | None = None
    response_id: str | None = None
    limit: int = 50
    cursor: str | None = None

    def accepts(self, record: RequestRecord) -> bool:
        """Whether ``record`` matches every filter of the query (the cursor and limit aside)."""
        return (
            (self.key_id is None or record.key_id == self.key_id)
            and (self.team is None or record.team == self.team)
            and (self.model is None or self.model in (record.model_group, record.model))
            and (self.status is None or record.status == self.status)
            and (self.status_class is None or record.status // 100 == self.status_class)
            and (self.since is None or record.at >= self.since)
            and (self.until is None or record.at < self.until)
            and (self.request_id is None or record.request_id == self.request_id)
            and (self.response_id is None or record.response_id == self.response_id)
        )


def request_query_for(reader: Principal, query: RequestQuery) -> RequestQuery:
    """The query a reader may run: its bounds checked, its scope confined to what it may see.

    An admin sees every call. A ``member`` sees only its own key's calls; any other reader
    (``team_admin``, ``viewer``) its own team's, or without a team only its own key's. Asking for
    another key or team than the reader's own selects nothing.

    Raises:
        InvalidRequestError: 400 for a limit outside 1 to :data:`MAX_PAGE_SIZE`, a status outside
            100 to 599 (or a class outside 1 to 5), a time outside 0 to the year 3000, or ``since``
            after ``until``.
    """
    if not 1 <= query.limit <= MAX_PAGE_SIZE:
        raise InvalidRequestError(
            f"limit must be from 1 to {MAX_PAGE_SIZE}, got {query.limit}.", param="limit"
        )
    if (query.status is not None and not 100 <= query.status <= 599) or (
        query.status_class is not None and not 1 <= query.status_class <= 5
    ):
        raise InvalidRequestError(
            "status must be an HTTP status from 100 to 599 or a class such as 5xx.", param="status"
        )
    for name, value in (("since", query.since), ("until", query.until)):
        if value is not None and not (math.isfinite(value) and 0 <= value <= LATEST_TIME):
            raise InvalidRequestError(
                f"{name} must be a time from 1970 to the year 3000, got {value!r}.", param=name
            )
    if query.since is not None and query.until is not None and query.since > query.until:
        raise InvalidRequestError(f"since ({query.since}) is after until ({query.until}).", param="since")
    if reader.role == "admin":
        return query
    # Filters keep their meaning inside the reader's scope: another key or team selects nothing
    # (no call has the empty key id or team).
    if reader.role == "member" or reader.team is None:
        own = reader.key_id or ""
        return msgspec.structs.replace(query, key_id=own if query.key_id in (None, own) else "")
    team = reader.team if query.team in (None, reader.team) else ""
    return msgspec.structs.replace(query, team=team)


class RequestPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of records, newest first; ``next_cursor`` is None on the last page."""

    records: list[RequestRecord]
    next_cursor: str | None = None


class RequestLogError(ServiceUnavailableError):
    """The request log could not read its database (503); recording never raises it."""

    default_code = "request_log_unavailable"


class RequestLog(Protocol):
    """Where request records go (in memory per process; SQLite or PostgreSQL shared by workers)."""

    async def record(self, entry: RequestRecord) -> None:
        """Add one finished call; buffers only (it runs as a call ends, perhaps cancelled)."""
        ...

    async def query(self, query: RequestQuery) -> RequestPage:
        """The records ``query`` selects, newest first (this worker's buffer flushed first)."""
        ...

    def flushing(self) -> AbstractAsyncContextManager[None]:
        """Write the buffer in the background (and prune past the retention) while open."""
        ...

    async def close(self) -> None:
        """Flush what is buffered and close the database."""
        ...


Redact = Callable[[str], str]
"""Masks what a detector finds in a logged body (the PII detectors, when redaction is on)."""


class RequestJournal:
    """Turns the end of a call into a :class:`RequestRecord` for the request log.

    Args:
        log: Where records go.
        bodies: Log request and response bodies (off by default: they may hold anything).
        redact: Applied to each logged body (None: bodies are logged as they are).
        max_body_chars: Longest body kept; longer ones are cut.
        clock: Unix time.
    """

    def __init__(
        self,
        log: RequestLog,
        *,
        bodies: bool = False,
        redact: Redact | None = None,
        max_body_chars: int = 16_384,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._log = log
        self._bodies = bodies
        self._redact = redact
        self._max = max_body_chars
        self._clock = clock

    async def ended(self, ctx: CallContext, error: BaseException | None, response_body: bytes | None) -> None:
        """A call that was admitted ended: answered (``error`` None), refused or failed."""
        status, error_type = outcome_of(error)
        request_body = response_text = None
        if self._bodies:
            request_body = self._text(msgspec.json.encode(ctx.payload))
            response_text = self._text(response_body) if response_body is not None else None
        await self._log.record(
            record_of(
                ctx,
                ended_at=self._clock(),
                status=status,
                error_type=error_type,
                request_body=request_body,
                response_body=response_text,
                response_id=answer_id(response_body) if response_body is not None else None,
            )
        )

    def _text(self, body: bytes) -> str:
        # Redacted before the cut, a little past it, so an entity cut at the limit is still masked.
        keep = self._max + REDACT_MARGIN_CHARS if self._redact is not None else self._max
        text = body[: keep * 4].decode("utf-8", "replace")[:keep]
        if self._redact is not None:
            text = self._redact(text)
        return text[: self._max]


class _Identified(msgspec.Struct):
    id: str | None = None


_ID_DECODER = msgspec.json.Decoder(_Identified)
MAX_RESPONSE_ID_CHARS = 256


_LEADING_ID = re.compile(rb'^\{\s*"id"\s*:\s*"([A-Za-z0-9_.:-]{1,256})"')
FULL_DECODE_BYTES = 16_384
"""An answer whose ``id`` is not its first field is decoded whole only up to this size."""


def answer_id(body: bytes) -> str | None:
    """The ``id`` of a JSON answer (None when it has none, is not JSON, or the id is too long).

    OpenAI-shaped answers start with their ``id``, read off the first bytes; other answers are
    decoded (small ones only: the request log must not parse a large answer for it).
    """
    if not body.startswith(b"{"):
        return None
    leading = _LEADING_ID.match(body[:320])
    if leading is not None:
        return leading.group(1).decode()
    if len(body) > FULL_DECODE_BYTES:
        return None
    try:
        found = _ID_DECODER.decode(body).id
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return found if found is not None and len(found) <= MAX_RESPONSE_ID_CHARS else None


def frame_answer_id(frame: bytes) -> str | None:
    """The answer ``id`` a stream's first SSE frame carries (``data: {"id": "chatcmpl-…", …}``)."""
    if not frame.startswith(b"data: {"):
        return None
    leading = _LEADING_ID.match(frame[6:326])
    return leading.group(1).decode() if leading is not None else None


REDACT_MARGIN_CHARS = 256
"""How far past ``max_body_chars`` a body is read before redacting it (then cut to the limit)."""


CLIENT_CLOSED = 499
"""The status of a call whose client went away before its answer ended (nginx's convention)."""


def outcome_of(error: BaseException | None) -> tuple[int, str | None]:
    """The status and error type a call's outcome is logged with."""
    if error is None:
        return 200, None
    if isinstance(error, RouteIQError):
        return error.status_code, error.error_type
    if isinstance(error, anyio.get_cancelled_exc_class() | GeneratorExit):
        return CLIENT_CLOSED, "client_closed"
    return 500, "api_error"
