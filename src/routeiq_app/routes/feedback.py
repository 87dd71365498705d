"""``POST /v1/feedback`` (score a call you made) and ``GET /admin/feedback`` (read feedback, RBAC-scoped)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery

from routeiq_app.json_body import decode_json_object
from routeiq_app.routes.admin_requests import bounded_param, limit_param, time_param
from routeiq_core.access import Principal
from routeiq_core.errors import InvalidRequestError
from routeiq_core.feedback import FeedbackQuery, FeedbackRecord, FeedbackService, FeedbackSubmission

MAX_FEEDBACK_BYTES = 16_384
"""Largest feedback body (a 4,000-character comment and the ids fit well inside)."""


class FeedbackPage(msgspec.Struct, frozen=True, kw_only=True):
    """Feedback records, newest first; pass ``next_before`` as ``before`` for the next page."""

    records: list[FeedbackRecord]
    next_before: float | None = None


@post("/v1/feedback", summary="Score a call this key made", tags=["feedback"], status_code=201)
async def submit_feedback(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    feedback: NamedDependency[Any],
) -> FeedbackRecord:
    """Feedback on one call: a ``score`` in [0, 1] and/or a ``label``, and an optional ``comment``.

    Name the call by ``request_id`` (its answer's ``X-Request-ID``) or ``response_id``. Only the key
    that made the call (or an admin) may score it; any other call answers 404, as a missing one does.
    """
    raw = await request.body()
    if len(raw) > MAX_FEEDBACK_BYTES:
        raise InvalidRequestError(f"The feedback body is larger than {MAX_FEEDBACK_BYTES} bytes.")
    body = decode_json_object(raw)
    try:
        submission = msgspec.convert(body, FeedbackSubmission)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"Invalid feedback: {exc}") from None
    service: FeedbackService = feedback  # typed here: Litestar resolves Any-typed dependencies fastest
    return await service.submit(principal, submission)


@get("/admin/feedback", summary="Feedback on calls, newest first", tags=["admin"])
async def list_feedback(
    principal: NamedDependency[Principal],
    feedback: NamedDependency[Any],
    key_id: FromQuery[str | None] = None,
    team: FromQuery[str | None] = None,
    request_id: FromQuery[str | None] = None,
    model_group: FromQuery[str | None] = None,
    source: FromQuery[str | None] = None,
    router: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    before: FromQuery[str | None] = None,
    limit: FromQuery[str | None] = None,
) -> FeedbackPage:
    """Client and evaluator scores with the call's key, team, model group and deployment.

    Readers see their team's (or their key's) feedback only, as in ``/admin/requests``.
    """
    if source not in (None, "client", "evaluator"):
        raise InvalidRequestError("source must be client or evaluator.", param="source")
    service: FeedbackService = feedback
    query = FeedbackQuery(
        key_id=bounded_param("key_id", key_id),
        team=bounded_param("team", team),
        request_id=bounded_param("request_id", request_id),
        model_group=bounded_param("model_group", model_group),
        source=source,  # type: ignore[arg-type]
        router=bounded_param("router", router),
        since=time_param("since", since),
        before=time_param("before", before),
        limit=limit_param(limit),
    )
    records = await service.query(principal, query)
    full = len(records) == query.limit
    return FeedbackPage(records=records, next_before=records[-1].at if full and records else None)


feedback_routes = (submit_feedback, list_feedback)
