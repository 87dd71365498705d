"""TeamService: RBAC (admins write, team admins read their own team only) and validation."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import pytest

from routeiq_adapters.teams import SQLiteTeamStore
from routeiq_core.access import (
    Budget,
    NewTeam,
    Principal,
    QuotaLimit,
    Role,
    Team,
    TeamPatch,
    TeamService,
)
from routeiq_core.errors import ConflictError, InvalidRequestError, NotFoundError, PermissionDeniedError
from tests.support.clocks import ManualClock

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000.0
ADMIN = Principal.admin()


def key(role: Role, team: str | None = "alpha") -> Principal:
    return Principal(kind="virtual_key", role=role, key_id=f"key_{role}", team=team)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def teams(clock: ManualClock) -> AsyncIterator[TeamService]:
    store = SQLiteTeamStore(":memory:")
    service = TeamService(store, clock=clock)
    for team_id in ("alpha", "beta", "gamma"):
        await service.create(ADMIN, NewTeam(team_id=team_id, alias=team_id.title()))
    try:
        yield service
    finally:
        await store.close()


async def test_admin_creates_reads_updates_and_deletes(teams: TeamService, clock: ManualClock) -> None:
    spec = NewTeam(
        team_id="ml-ops_2",
        alias="ML Ops",
        allowed_models=("gpt-4o",),
        limits=(QuotaLimit(metric="requests", window="minute", limit=10),),
        budget=Budget(max_spend=5.0),
        metadata={"cost_center": 42},
    )
    created = await teams.create(ADMIN, spec)
    assert created == Team(
        **{f: getattr(spec, f) for f in spec.__struct_fields__}, created_at=NOW, updated_at=NOW
    )
    assert await teams.get(ADMIN, "ml-ops_2") == created
    clock.now = NOW + 10
    updated = await teams.update(ADMIN, "ml-ops_2", TeamPatch(budget=None, allowed_models=()))
    assert (updated.budget, updated.allowed_models, updated.updated_at) == (None, (), NOW + 10)
    assert updated.limits == spec.limits
    clock.now = NOW + 20
    deleted = await teams.delete(ADMIN, "ml-ops_2")
    assert deleted.deleted_at == NOW + 20
    assert await teams.delete(ADMIN, "ml-ops_2") == deleted
    assert await teams.get(ADMIN, "ml-ops_2") == deleted
    page = await teams.list_teams(ADMIN)
    assert [t.team_id for t in page.items] == ["alpha", "beta", "gamma"]


async def test_admin_pages_through_teams(teams: TeamService) -> None:
    first = await teams.list_teams(ADMIN, limit=2)
    assert ([t.team_id for t in first.items], first.next_cursor) == (["alpha", "beta"], "beta")
    second = await teams.list_teams(ADMIN, limit=2, after=first.next_cursor)
    assert ([t.team_id for t in second.items], second.next_cursor) == (["gamma"], None)


@pytest.mark.parametrize("role", ["member", "team_admin", "viewer"])
async def test_only_admins_write(teams: TeamService, role: Role) -> None:
    actor = key(role)
    with pytest.raises(PermissionDeniedError, match=r"teams\.write"):
        await teams.create(actor, NewTeam(team_id="alpha2"))
    with pytest.raises(PermissionDeniedError, match=r"teams\.write"):
        await teams.update(actor, "alpha", TeamPatch(alias="mine now"))
    with pytest.raises(PermissionDeniedError, match=r"teams\.write"):
        await teams.delete(actor, "alpha")
    with pytest.raises(PermissionDeniedError):  # permission before validation: no probing
        await teams.create(actor, NewTeam(team_id="BAD ID"))
    assert (await teams.get(ADMIN, "alpha")).alias == "Alpha"


async def test_members_cannot_read_teams(teams: TeamService) -> None:
    member = key("member")
    with pytest.raises(PermissionDeniedError, match=r"teams\.read") as caught:
        await teams.get(member, "alpha")
    assert caught.value.status_code == 403
    with pytest.raises(PermissionDeniedError, match=r"teams\.read"):
        await teams.list_teams(member)


@pytest.mark.parametrize("role", ["team_admin", "viewer"])
async def test_team_readers_are_confined_to_their_team(teams: TeamService, role: Role) -> None:
    actor = key(role, team="beta")
    assert (await teams.get(actor, "beta")).team_id == "beta"
    for other in ("alpha", "no-such-team"):  # 403 before 404: other teams' existence does not leak
        with pytest.raises(PermissionDeniedError) as caught:
            await teams.get(actor, other)
        assert caught.value.code == "team_forbidden"
    page = await teams.list_teams(actor)
    assert ([t.team_id for t in page.items], page.next_cursor) == (["beta"], None)
    assert (await teams.list_teams(actor, after="beta")).items == ()
    assert [t.team_id for t in (await teams.list_teams(actor, after="alpha")).items] == ["beta"]


async def test_a_team_admin_no_longer_lists_its_deleted_team(teams: TeamService) -> None:
    await teams.delete(ADMIN, "beta")
    actor = key("team_admin", team="beta")
    assert (await teams.list_teams(actor)).items == ()
    assert (await teams.get(actor, "beta")).deleted_at == NOW
    assert (await teams.list_teams(key("team_admin", team="unknown"))).items == ()


async def test_a_team_admin_without_a_team_lists_nothing(teams: TeamService) -> None:
    with pytest.raises(PermissionDeniedError, match="own team"):
        await teams.list_teams(key("team_admin", team=None))


async def test_missing_and_deleted_teams(teams: TeamService) -> None:
    for call in (teams.get, teams.delete):
        with pytest.raises(NotFoundError) as missing:
            await call(ADMIN, "nope")
        assert (missing.value.status_code, missing.value.param, missing.value.code) == (
            404,
            "team_id",
            "team_not_found",
        )
    with pytest.raises(NotFoundError):
        await teams.update(ADMIN, "nope", TeamPatch(alias="x"))
    await teams.delete(ADMIN, "gamma")
    with pytest.raises(ConflictError, match="deleted") as deleted:
        await teams.update(ADMIN, "gamma", TeamPatch(alias="x"))
    assert (deleted.value.status_code, deleted.value.code) == (409, "team_deleted")


async def test_duplicate_ids_conflict_even_after_deletion(teams: TeamService) -> None:
    with pytest.raises(ConflictError, match="already exists") as caught:
        await teams.create(ADMIN, NewTeam(team_id="alpha"))
    assert (caught.value.status_code, caught.value.param) == (409, "team_id")
    await teams.delete(ADMIN, "alpha")
    with pytest.raises(ConflictError):
        await teams.create(ADMIN, NewTeam(team_id="alpha"))


@pytest.mark.parametrize("team_id", ["", "Alpha", "-lead", "_lead", "a b", "a.b", "é", "x" * 65, "a/b"])
async def test_team_ids_are_slugs(teams: TeamService, team_id: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await teams.create(ADMIN, NewTeam(team_id=team_id))
    assert (caught.value.status_code, caught.value.param, caught.value.code) == (
        400,
        "team_id",
        "invalid_team_id",
    )


@pytest.mark.parametrize("team_id", ["0", "a", "a-b_c", "9lives", "x" * 64])
async def test_valid_team_ids(teams: TeamService, team_id: str) -> None:
    assert (await teams.create(ADMIN, NewTeam(team_id=team_id))).team_id == team_id


INVALID_FIELDS: list[tuple[str, dict[str, Any]]] = [
    ("alias", {"alias": "   "}),
    ("alias", {"alias": "x" * 257}),
    ("allowed_models", {"allowed_models": ("gpt-4o", "gpt-4o")}),
    ("allowed_models", {"allowed_models": ("",)}),
    (
        "limits",
        {
            "limits": (
                QuotaLimit(metric="requests", window="minute", limit=1),
                QuotaLimit(metric="requests", window="minute", limit=2),
            )
        },
    ),
    ("budget", {"budget": Budget(max_spend=-1.0)}),
    ("budget", {"budget": Budget(max_spend=math.inf)}),
    ("budget", {"budget": Budget(max_spend=math.nan)}),
    ("metadata", {"metadata": {"when": object()}}),
    ("metadata", {"metadata": {1: "not a string key"}}),
]


@pytest.mark.parametrize(("field", "values"), INVALID_FIELDS)
async def test_invalid_fields_are_named(teams: TeamService, field: str, values: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError) as created:
        await teams.create(ADMIN, NewTeam(team_id="new-team", **values))
    assert (created.value.status_code, created.value.param) == (400, field)
    with pytest.raises(InvalidRequestError) as patched:
        await teams.update(ADMIN, "alpha", TeamPatch(**values))
    assert patched.value.param == field
    with pytest.raises(NotFoundError):
        await teams.get(ADMIN, "new-team")


@pytest.mark.parametrize("limit", [0, 1001])
async def test_page_size_is_bounded(teams: TeamService, limit: int) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await teams.list_teams(ADMIN, limit=limit)
    assert caught.value.param == "limit"
