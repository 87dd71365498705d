"""Feedback on calls: scores from clients (the feedback endpoint) and from the evaluator plugin.

Each :class:`FeedbackRecord` names the call it scores by its request id (the id every answer
carries) or by the answer's id (``chatcmpl-…``, ``resp_…``), and is joined to the request log:
the call's key, team, model group and deployment are copied into the record when it is submitted, so
routing data can be built from feedback alone. Only the key that made a call (or an admin) may score
it; a call the submitter may not see answers exactly like a missing one.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

import anyio
import msgspec

from routeiq_core.access.principal import Principal
from routeiq_core.access.rbac import require
from routeiq_core.context import CallContext
from routeiq_core.errors import InvalidRequestError, NotFoundError, ServiceUnavailableError
from routeiq_core.request_log import RequestLog, RequestQuery, RequestRecord, request_query_for

MAX_ID_CHARS = 256
"""Longest request or response id accepted."""
MAX_COMMENT_CHARS = 4_000
"""Longest comment kept."""
MAX_PAGE_SIZE = 500
_LABEL = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

FeedbackSource = Literal["client", "evaluator"]


class FeedbackRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One score of one call.

    Attributes:
        at: Unix time the feedback arrived.
        source: ``client`` (sent by a client) or ``evaluator`` (the evaluator plugin).
        request_id: The call's request id (None when only its answer id was known).
        response_id: The call's answer id, when known.
        score: Quality in ``[0, 1]`` (None for a label alone).
        label: A short label (``thumbs_up``, ``wrong_answer``), when given.
        comment: Free text, when given.
        key_id: The key that made the call (copied from the request log).
        team: Its team.
        model_group: The model group that served the call.
        deployment_id: The deployment that served the call.
        submitted_by: The key that sent the feedback (None: the master key or the evaluator).
        router: The routed name whose router chose the call's model group, if any.
        router_version: That router's registry version (a canary compares its two arms by it).
        cost: What the call cost.
    """

    at: float
    source: FeedbackSource
    request_id: str | None = None
    response_id: str | None = None
    score: float | None = None
    label: str | None = None
    comment: str | None = None
    key_id: str | None = None
    team: str | None = None
    model_group: str | None = None
    deployment_id: str | None = None
    submitted_by: str | None = None
    router: str | None = None
    router_version: int | None = None
    cost: float | None = None


class FeedbackSubmission(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a client sends: which call, and a score or a label (or both)."""

    request_id: str | None = None
    response_id: str | None = None
    score: float | None = None
    label: str | None = None
    comment: str | None = None

    def validate(self) -> None:
        """Raise a 400 naming the field that is wrong."""
        if self.request_id is None and self.response_id is None:
            raise InvalidRequestError(
                "Name the call: set request_id (the request id its answer carried) or response_id.",
                param="request_id",
            )
        for name, value in (("request_id", self.request_id), ("response_id", self.response_id)):
            if value is not None and not 0 < len(value) <= MAX_ID_CHARS:
                raise InvalidRequestError(f"{name} must be 1 to {MAX_ID_CHARS} characters.", param=name)
        if self.score is None and self.label is None:
            raise InvalidRequestError("Give a score in [0, 1] or a label (or both).", param="score")
        if self.score is not None and not (math.isfinite(self.score) and 0.0 <= self.score <= 1.0):
            raise InvalidRequestError(
                f"score must be a number from 0 to 1, got {self.score!r}.", param="score"
            )
        if self.label is not None and not _LABEL.match(self.label):
            raise InvalidRequestError(
                "label must be 1 to 64 letters, digits or _ . : - (such as thumbs_up).", param="label"
            )
        if self.comment is not None and len(self.comment) > MAX_COMMENT_CHARS:
            raise InvalidRequestError(
                f"comment is longer than {MAX_COMMENT_CHARS} characters.", param="comment"
            )


class FeedbackQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Which feedback to read, newest first (``before``: the ``at`` of the previous page's last)."""

    key_id: str | None = None
    team: str | None = None
    request_id: str | None = None
    model_group: str | None = None
    source: FeedbackSource | None = None
    router: str | None = None
    since: float | None = None
    before: float | None = None
    limit: int = 50

    def accepts(self, record: FeedbackRecord) -> bool:
        """Whether ``record`` matches every filter."""
        return (
            (self.key_id is None or record.key_id == self.key_id)
            and (self.team is None or record.team == self.team)
            and (self.request_id is None or record.request_id == self.request_id)
            and (self.model_group is None or record.model_group == self.model_group)
            and (self.source is None or record.source == self.source)
            and (self.router is None or record.router == self.router)
            and (self.since is None or record.at >= self.since)
            and (self.before is None or record.at < self.before)
        )


class FeedbackStoreError(ServiceUnavailableError):
    """The feedback store could not read or write its database (503)."""

    default_code = "feedback_store_unavailable"


class FeedbackStore(Protocol):
    """Where feedback is kept (in memory per process; SQLite or PostgreSQL shared by workers)."""

    async def add(self, record: FeedbackRecord) -> None:
        """Keep one record."""
        ...

    async def query(self, query: FeedbackQuery) -> list[FeedbackRecord]:
        """The records ``query`` selects, newest first, at most ``query.limit``."""
        ...

    async def close(self) -> None:
        """Close the database."""
        ...


ResponseOwner = Callable[[str], Awaitable[tuple[bool, str | None]]]
"""A stored response's id → (whether it exists, the key that created it)."""
QualityListener = Callable[[str, float], None]
"""Receives (request id, score): the deployment strategy learning from quality."""


class FeedbackService:
    """Takes feedback on calls, checks that the submitter made them, and joins them to the request log.

    Args:
        store: Where feedback is kept.
        log: The request log the call is looked up in (None: only stored responses can be scored).
        response_owner: Looks a Responses API id up in the response store (None: not available).
        on_quality: Told each client score, keyed by request id (routing that learns from quality).
        lookup_wait_s: How long to wait for another worker's buffered record of a call just made
            (the request log's flush interval).
        clock: Unix time.
    """

    def __init__(
        self,
        store: FeedbackStore,
        *,
        log: RequestLog | None,
        response_owner: ResponseOwner | None = None,
        on_quality: QualityListener | None = None,
        lookup_wait_s: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._log = log
        self._response_owner = response_owner
        self._on_quality = on_quality
        self._wait_s = lookup_wait_s
        self._clock = clock

    async def submit(self, principal: Principal, submission: FeedbackSubmission) -> FeedbackRecord:
        """Record ``principal``'s feedback on one of its calls.

        Raises:
            PermissionDeniedError: 403 for a key that cannot make calls (``llm.call``).
            InvalidRequestError: 400 for a bad body.
            NotFoundError: 404 when no call the submitter made has that id.
        """
        require(principal, "llm.call")
        submission.validate()
        call = await self._find_call(principal, submission)
        record = FeedbackRecord(
            at=self._clock(),
            source="client",
            request_id=call.request_id if call is not None else submission.request_id,
            response_id=submission.response_id or (call.response_id if call is not None else None),
            score=submission.score,
            label=submission.label,
            comment=submission.comment,
            key_id=call.key_id if call is not None else principal.key_id,
            team=call.team if call is not None else principal.team,
            model_group=call.model_group if call is not None else None,
            deployment_id=call.deployment_id if call is not None else None,
            submitted_by=principal.key_id,
            router=call.router if call is not None else None,
            router_version=call.router_version if call is not None else None,
            cost=call.cost if call is not None else None,
        )
        await self._store.add(record)
        if self._on_quality is not None and record.request_id is not None and record.score is not None:
            self._on_quality(record.request_id, record.score)
        return record

    async def evaluated(self, record: FeedbackRecord) -> None:
        """Keep an evaluator's score (the plugin already knows the call)."""
        await self._store.add(record)

    async def query(self, reader: Principal, query: FeedbackQuery) -> list[FeedbackRecord]:
        """The feedback ``reader`` may see (``requests.read``; scoped as the request log is)."""
        require(reader, "requests.read")
        if not 1 <= query.limit <= MAX_PAGE_SIZE:
            raise InvalidRequestError(f"limit must be from 1 to {MAX_PAGE_SIZE}.", param="limit")
        scoped = request_query_for(reader, RequestQuery(key_id=query.key_id, team=query.team))
        return await self._store.query(msgspec.structs.replace(query, key_id=scoped.key_id, team=scoped.team))

    async def _find_call(self, principal: Principal, submission: FeedbackSubmission) -> RequestRecord | None:
        """The call being scored, from the request log (or the response store for ``resp_`` ids)."""
        query = RequestQuery(request_id=submission.request_id, response_id=submission.response_id, limit=1)
        call = await self._lookup(principal, query)
        if call is not None:
            return call
        if submission.response_id is not None and self._response_owner is not None:
            exists, owner = await self._response_owner(submission.response_id)
            if exists and (principal.role == "admin" or (owner is not None and owner == principal.key_id)):
                return None  # a stored response the submitter made; its call record is not needed
        what = submission.request_id or submission.response_id
        raise NotFoundError(
            f"No call {what!r} that this key made is in the request log.", code="call_not_found"
        )

    async def _lookup(self, principal: Principal, query: RequestQuery) -> RequestRecord | None:
        if self._log is None:
            return None
        scoped = query if principal.role == "admin" else _own_calls(principal, query)
        for attempt in range(2):  # another worker may not have flushed a call it just answered
            page = await self._log.query(scoped)
            if page.records:
                return page.records[0]
            if attempt == 0 and self._wait_s > 0:
                await anyio.sleep(self._wait_s)
        return None


def evaluator_record(ctx: CallContext, score: float) -> FeedbackRecord:
    """The feedback record of an evaluator's ``score`` of the call ``ctx`` (the answer just given)."""
    return FeedbackRecord(
        at=time.time(),
        source="evaluator",
        request_id=ctx.request_id,
        response_id=ctx.response_id,
        score=score,
        key_id=ctx.principal.key_id,
        team=ctx.principal.team,
        model_group=ctx.configured_group or ctx.model_group,
        deployment_id=ctx.deployment.id if ctx.deployment is not None else None,
        router=ctx.routed.router if ctx.routed is not None else None,
        router_version=ctx.routed.version if ctx.routed is not None else None,
        cost=ctx.cost,
    )


def _own_calls(principal: Principal, query: RequestQuery) -> RequestQuery:
    """Only the submitter's own key's calls (a key-less non-admin matches nothing)."""
    return msgspec.structs.replace(query, key_id=principal.key_id or "")
