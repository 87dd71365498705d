"""``/admin/requests``: the request log, filtered and paginated (``requests.read``, RBAC-scoped)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from routeiq_core.access import Principal, require
from routeiq_core.errors import InvalidRequestError, NotFoundError
from routeiq_core.request_log import (
    MAX_PAGE_SIZE,
    RequestLog,
    RequestPage,
    RequestQuery,
    RequestRecord,
    request_query_for,
)

MAX_PARAM_CHARS = 256
"""Longest value a filter may have (a key id, team, model or request id is far shorter)."""
DEFAULT_PAGE_SIZE = 50


@get("/admin/requests", summary="The request log, newest first", tags=["admin"])
async def list_requests(
    principal: NamedDependency[Principal],
    request_log: NamedDependency[Any],
    key_id: FromQuery[str | None] = None,
    team: FromQuery[str | None] = None,
    model: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    request_id: FromQuery[str | None] = None,
    limit: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> RequestPage:
    """One record per call; ``next_cursor`` fetches the next page. Readers see their team (or key) only.

    ``status`` is a status (``429``) or a class (``5xx``); ``since`` (inclusive) and ``until``
    (exclusive) are Unix seconds or ISO 8601 times; ``model`` matches the model group or the model
    asked for.
    """
    require(principal, "requests.read")
    log = _enabled(request_log)
    exact, status_class = _status(status)
    query = RequestQuery(
        key_id=bounded_param("key_id", key_id),
        team=bounded_param("team", team),
        model=bounded_param("model", model),
        status=exact,
        status_class=status_class,
        since=time_param("since", since),
        until=time_param("until", until),
        request_id=bounded_param("request_id", request_id),
        limit=limit_param(limit),
        cursor=bounded_param("cursor", cursor),
    )
    return await log.query(request_query_for(principal, query))


@get("/admin/requests/{request_id:str}", summary="One call of the request log", tags=["admin"])
async def get_request(
    request_id: FromPath[str], principal: NamedDependency[Principal], request_log: NamedDependency[Any]
) -> RequestRecord:
    """The latest call with this request id (404 when there is none, or not one the reader may see)."""
    require(principal, "requests.read")
    log = _enabled(request_log)
    ask = RequestQuery(request_id=bounded_param("request_id", request_id), limit=1)
    query = request_query_for(principal, ask)
    page = await log.query(query)
    if not page.records:
        raise NotFoundError(f"No call with request id {request_id[:MAX_PARAM_CHARS]!r} in the request log.")
    return page.records[0]


def _enabled(request_log: Any) -> RequestLog:
    if request_log is None:
        raise NotFoundError(
            "The request log is off; set observability.request_log.enabled to record calls.",
            code="request_log_disabled",
        )
    log: RequestLog = request_log  # the port (a Protocol cannot be a Litestar dependency type)
    return log


def bounded_param(name: str, value: str | None) -> str | None:
    """``value`` checked against :data:`MAX_PARAM_CHARS` (400 naming ``name`` when longer)."""
    if value is not None and len(value) > MAX_PARAM_CHARS:
        raise InvalidRequestError(f"{name} is longer than {MAX_PARAM_CHARS} characters.", param=name)
    return value


def _status(text: str | None) -> tuple[int | None, int | None]:
    """``(status, None)`` for ``429``, ``(None, 5)`` for ``5xx``."""
    if text is None:
        return None, None
    value = text.strip().lower()
    if len(value) == 3 and value[0] in "12345" and value[1:] == "xx":
        return None, int(value[0])
    if len(value) == 3 and value.isdigit() and 100 <= int(value) <= 599:
        return int(value), None
    raise InvalidRequestError(
        f"status must be an HTTP status such as 429 or a class such as 5xx, got {text[:16]!r}.",
        param="status",
    )


def time_param(name: str, text: str | None) -> float | None:
    """Unix seconds (``1767225600``) or an ISO 8601 time (``2026-01-01T00:00:00Z``; no zone: UTC)."""
    if text is None:
        return None
    bounded_param(name, text)
    try:
        value = float(text)
    except ValueError:
        try:
            moment = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise InvalidRequestError(
                f"{name} must be Unix seconds or an ISO 8601 time such as 2026-01-01T00:00:00Z, "
                f"got {text[:40]!r}.",
                param=name,
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        value = moment.timestamp()
    if not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a finite time, got {text[:40]!r}.", param=name)
    return value


def limit_param(text: str | None) -> int:
    """A page size from 1 to ``MAX_PAGE_SIZE`` (the default when absent; 400 otherwise)."""
    if text is None:
        return DEFAULT_PAGE_SIZE
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidRequestError(
            f"limit must be from 1 to {MAX_PAGE_SIZE}, got {text[:16]!r}.", param="limit"
        )
    return value


request_routes = (list_requests, get_request)
