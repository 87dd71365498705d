"""``/admin/teams``: create, list, inspect, update and delete teams (RBAC-enforced)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from routeiq_app.routes.admin_body import (
    PatchField,
    body_of,
    convert,
    limit_table,
    limits_of,
    patch_changes,
)
from routeiq_core.access import Budget, NewTeam, Principal, Team, TeamPatch, TeamService

_FIELDS = frozenset({"team_id", "alias", "models", "budget", "metadata"})
_PATCHABLE: tuple[PatchField, ...] = (
    ("models", "allowed_models", tuple[str, ...]),
    ("alias", "alias", str | None),
    ("budget", "budget", Budget | None),
    ("metadata", "metadata", dict[str, Any]),
)


class TeamView(msgspec.Struct, kw_only=True):
    """A team as the API shows it."""

    team_id: str
    alias: str | None
    models: tuple[str, ...]
    limits: dict[str, float]
    budget: Budget | None
    metadata: dict[str, Any]
    created_at: float
    deleted_at: float | None


class TeamList(msgspec.Struct, kw_only=True):
    """One page of teams."""

    data: list[TeamView]
    next_after: str | None = None


def team_view(team: Team) -> TeamView:
    """The API view of a team."""
    return TeamView(
        team_id=team.team_id,
        alias=team.alias,
        models=team.allowed_models,
        limits=limit_table(team.limits),
        budget=team.budget,
        metadata=dict(team.metadata),
        created_at=team.created_at,
        deleted_at=team.deleted_at,
    )


@post("/admin/teams", summary="Create a team", tags=["admin"], status_code=201)
async def create_team(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    team_service: NamedDependency[TeamService],
) -> TeamView:
    """E.g. ``{"team_id": "t1", "models": ["demo"], "rpm": 100}``."""
    body = await body_of(request)
    spec = NewTeam(
        team_id=convert(body.get("team_id"), str, "team_id"),
        alias=convert(body.get("alias"), str | None, "alias"),
        allowed_models=convert(body.get("models", ()), tuple[str, ...], "models"),
        limits=limits_of(body, _FIELDS),
        budget=convert(body.get("budget"), Budget | None, "budget"),
        metadata=convert(body.get("metadata", {}), dict[str, Any], "metadata"),
    )
    return team_view(await team_service.create(principal, spec))


@get("/admin/teams", summary="List teams", tags=["admin"])
async def list_teams(
    principal: NamedDependency[Principal],
    team_service: NamedDependency[TeamService],
    limit: FromQuery[int] = 100,
    after: FromQuery[str | None] = None,
) -> TeamList:
    """All teams for an admin; a team admin sees its own."""
    page = await team_service.list_teams(principal, limit=limit, after=after)
    return TeamList(data=[team_view(t) for t in page.items], next_after=page.next_cursor)


@get("/admin/teams/{team_id:str}", summary="One team", tags=["admin"])
async def get_team(
    team_id: FromPath[str], principal: NamedDependency[Principal], team_service: NamedDependency[TeamService]
) -> TeamView:
    """A team (also a deleted one, with ``deleted_at``)."""
    return team_view(await team_service.get(principal, team_id))


@patch("/admin/teams/{team_id:str}", summary="Update a team", tags=["admin"])
async def update_team(
    team_id: FromPath[str],
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    team_service: NamedDependency[TeamService],
) -> TeamView:
    """Only the fields given change; limit keys replace the team's limits."""
    changes = patch_changes(await body_of(request), _PATCHABLE, _FIELDS)
    return team_view(await team_service.update(principal, team_id, TeamPatch(**changes)))


@delete("/admin/teams/{team_id:str}", summary="Delete a team", tags=["admin"], status_code=200)
async def delete_team(
    team_id: FromPath[str], principal: NamedDependency[Principal], team_service: NamedDependency[TeamService]
) -> TeamView:
    """Soft delete: the id is never reused."""
    return team_view(await team_service.delete(principal, team_id))


team_routes = (create_team, list_teams, get_team, update_team, delete_team)
