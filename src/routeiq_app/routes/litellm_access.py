"""LiteLLM's ``/team/new``, ``/team/info`` and ``/spend/logs`` on RouteIQ's team service and spend ledger.

Teams accept ``team_id`` (a slug; a UUID when omitted, as LiteLLM does), ``team_alias``, ``models``,
``max_budget``, ``budget_duration``, ``rpm_limit``, ``tpm_limit`` and ``metadata``. RouteIQ teams have no
members: keys belong to a team (``team_id`` on ``/key/generate``), so ``members_with_roles`` and the
other member fields are refused when they ask for something (see :data:`UNSUPPORTED_TEAM_FIELDS`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery

from routeiq_app.routes import litellm_fields as fields
from routeiq_app.routes.admin_access import spend_report_for
from routeiq_app.routes.admin_body import body_of, limit_table
from routeiq_app.routes.litellm_key_body import LiteLLMKey, key_id_of, key_view
from routeiq_core.access import KeyHasher, KeyService, NewTeam, Principal, Team, TeamService
from routeiq_core.errors import InvalidRequestError, NotFoundError

TEAM_FIELDS = frozenset(
    {"team_id", "team_alias", "models", "max_budget", "budget_duration", "rpm_limit", "tpm_limit", "metadata"}
)
_NO_MEMBERS = "RouteIQ teams have no members; a key belongs to a team (team_id on /key/generate)"
UNSUPPORTED_TEAM_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "members_with_roles": _NO_MEMBERS,
        "members": _NO_MEMBERS,
        "admins": _NO_MEMBERS + "; a team admin is a key with the team_admin role (POST /admin/keys)",
        "team_member_permissions": _NO_MEMBERS,
        "team_member_budget": _NO_MEMBERS,
        "team_member_rpm_limit": _NO_MEMBERS,
        "team_member_tpm_limit": _NO_MEMBERS,
        "team_member_key_duration": _NO_MEMBERS,
        "organization_id": "RouteIQ has no organizations",
        "model_aliases": "model aliases are set in the config (model_list), not per team",
        "max_parallel_requests": "RouteIQ limits requests per minute (rpm_limit), not concurrent requests",
        "model_rpm_limit": "limits apply to the whole team, not per model",
        "model_tpm_limit": "limits apply to the whole team, not per model",
        "blocked": "a team is removed with DELETE /admin/teams/{team_id}",
        "tags": "teams carry no tags (put labels in metadata)",
        "guardrails": "guardrails are configured as plugins, not per team",
        "object_permission": "MCP and agent permissions come from each key's role",
        "spend": "spend is recorded by the gateway and cannot be set",
        "soft_budget": "there are no soft-budget alerts; max_budget is enforced",
    }
)
MAX_USER_KEY_PAGES = 10
"""How many pages of 1000 keys a ``/spend/logs?user_id=`` filter reads at most."""


class LiteLLMTeam(msgspec.Struct, kw_only=True):
    """A team shaped like LiteLLM's team objects, with only what RouteIQ has."""

    team_id: str
    team_alias: str | None
    models: list[str]
    max_budget: float | None
    budget_duration: str | None
    rpm_limit: int | None
    tpm_limit: int | None
    metadata: dict[str, Any]
    created_at: str | None
    updated_at: str | None
    deleted_at: str | None
    limits: dict[str, float]


class TeamInfo(msgspec.Struct, kw_only=True):
    """The answer of ``/team/info``: the team and its keys (never their secrets)."""

    team_id: str
    team_info: LiteLLMTeam
    keys: list[LiteLLMKey]


class SpendLogRow(msgspec.Struct, kw_only=True):
    """Spend of one key on one model group over the requested window (not one request)."""

    api_key: str | None
    model: str
    spend: float
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    requests: int
    user: str | None
    start_time: str | None = msgspec.field(name="startTime")
    end_time: str | None = msgspec.field(name="endTime")


def team_view(team: Team) -> LiteLLMTeam:
    """A stored team as LiteLLM shows it; ``limits`` lists every RouteIQ limit."""
    return LiteLLMTeam(
        team_id=team.team_id,
        team_alias=team.alias,
        models=list(team.allowed_models),
        max_budget=team.budget.max_spend if team.budget else None,
        budget_duration=fields.BUDGET_DURATION_OF[team.budget.window] if team.budget else None,
        rpm_limit=fields.rate_limit(team.limits, "requests"),
        tpm_limit=fields.rate_limit(team.limits, "total_tokens"),
        metadata=dict(team.metadata),
        created_at=fields.iso(team.created_at),
        updated_at=fields.iso(team.updated_at),
        deleted_at=fields.iso(team.deleted_at),
        limits=limit_table(team.limits),
    )


@post("/team/new", summary="LiteLLM: create a team", tags=["litellm"], status_code=200)
async def new_team(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    team_service: NamedDependency[TeamService],
) -> LiteLLMTeam:
    """Create a team like ``POST /admin/teams``, e.g. ``{"team_alias": "search", "rpm_limit": 100}``."""
    body = await body_of(request)
    fields.check_fields(body, TEAM_FIELDS, UNSUPPORTED_TEAM_FIELDS)
    spec = NewTeam(
        team_id=fields.text(body, "team_id") or str(uuid.uuid4()),
        alias=fields.text(body, "team_alias"),
        allowed_models=fields.models(body),
        limits=fields.rate_limits(body),
        budget=fields.budget(body),
        metadata=fields.metadata(body),
    )
    return team_view(await team_service.create(principal, spec))


@get("/team/info", summary="LiteLLM: one team and its keys", tags=["litellm"])
async def team_info(
    principal: NamedDependency[Principal],
    team_service: NamedDependency[TeamService],
    key_service: NamedDependency[KeyService],
    team_id: FromQuery[str | None] = None,
) -> TeamInfo:
    """The team ``team_id`` (else the caller's) and up to 1000 of its keys (``teams.read``, ``keys.read``)."""
    team_id = team_id if team_id is not None else principal.team
    if team_id is None:
        raise InvalidRequestError("team_id is required: pass ?team_id=...", param="team_id")
    team = await team_service.get(principal, team_id)
    keys = await key_service.list_keys(principal, team=team_id, limit=1000)
    now = time.time()
    return TeamInfo(
        team_id=team.team_id, team_info=team_view(team), keys=[key_view(k, now) for k in keys.items]
    )


@get("/spend/logs", summary="LiteLLM: spend per key and model group (aggregated)", tags=["litellm"])
async def spend_logs(
    principal: NamedDependency[Principal],
    spend_ledger: NamedDependency[Any],
    key_service: NamedDependency[KeyService],
    key_store: NamedDependency[Any],
    key_hasher: NamedDependency[KeyHasher],
    api_key: FromQuery[str | None] = None,
    user_id: FromQuery[str | None] = None,
    request_id: FromQuery[str | None] = None,
    start_date: FromQuery[str | None] = None,
    end_date: FromQuery[str | None] = None,
) -> list[SpendLogRow]:
    """One row per (key, model group) with spend in the window, not one per request as in LiteLLM.

    RouteIQ's spend ledger keeps hourly totals per key, team and model group (90 days by default),
    not a log of requests: rows carry no ``request_id``, ``startTime``/``endTime`` are the requested
    window (whole hours are counted), ``requests`` says how many calls a row adds up, and
    ``request_id`` cannot be filtered (400). ``api_key`` is a key or its token (``key_...``);
    ``user_id`` sums that user's keys; ``start_date``/``end_date`` are ISO dates (both days included)
    or date-times. Readers are confined as on ``/admin/spend`` (``spend.read``; others' teams unseen).
    """
    if request_id is not None:
        raise InvalidRequestError(
            "request_id cannot be filtered: RouteIQ keeps spend per key and model group per hour, not "
            "per request. Filter by api_key, user_id, start_date and end_date.",
            param="request_id",
        )
    since = None if start_date is None else fields.parse_time(start_date, "start_date")
    until = None if end_date is None else fields.parse_time(end_date, "end_date", end_of_day=True)
    if since is not None and until is not None and since > until:
        raise InvalidRequestError("start_date is after end_date.", param="start_date")
    key_id, unknown_key = None, False
    if api_key is not None:
        try:
            key_id = await key_id_of(api_key, key_store, key_hasher, "api_key")
        except NotFoundError:
            unknown_key = True  # no such key: it spent nothing (as LiteLLM answers)
    bounds: dict[str, Any] = {"key_id": key_id, "since": since, "until": until}
    overall = await spend_report_for(principal, spend_ledger, **bounds)
    if unknown_key:
        return []
    users_keys = None if user_id is None else await _keys_of_user(principal, key_service, user_id)
    rows: list[SpendLogRow] = []
    for group in sorted(overall.by_model_group):
        report = await spend_report_for(principal, spend_ledger, model_group=group, **bounds)
        for key, totals in report.by_key.items():
            if users_keys is None or key in users_keys:
                rows.append(
                    SpendLogRow(
                        api_key=None if key == "-" else key,
                        model=group,
                        spend=totals.cost,
                        prompt_tokens=totals.prompt_tokens,
                        completion_tokens=totals.completion_tokens,
                        total_tokens=totals.prompt_tokens + totals.completion_tokens,
                        requests=totals.requests,
                        user=user_id,
                        start_time=fields.iso(since),
                        end_time=fields.iso(until),
                    )
                )
    rows.sort(key=lambda row: (-row.spend, row.api_key or "", row.model))
    return rows


async def _keys_of_user(principal: Principal, key_service: KeyService, user: str) -> set[str]:
    """The ids of ``user``'s keys that ``principal`` may list (``keys.read``)."""
    found: set[str] = set()
    after = None
    for _ in range(MAX_USER_KEY_PAGES):
        page = await key_service.list_keys(principal, user=user, limit=1000, after=after)
        found.update(key.key_id for key in page.items)
        if page.next_cursor is None:
            return found
        after = page.next_cursor
    raise InvalidRequestError(
        f"user_id has more than {MAX_USER_KEY_PAGES * 1000} keys; filter by api_key instead.", param="user_id"
    )


litellm_access_routes = (new_team, team_info, spend_logs)
