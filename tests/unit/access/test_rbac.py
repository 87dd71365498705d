"""RBAC: wildcard grants, roles, team confinement, 403 (not 401) for known callers."""

from __future__ import annotations

import pytest

from routeiq_core.access import (
    KeyHasher,
    KeyPatch,
    KeyService,
    NewKey,
    Principal,
    Role,
    can_grant,
    can_manage,
    has_permission,
    require,
    require_model,
)
from routeiq_core.access.rbac import grant_matches
from routeiq_core.errors import NotFoundError, PermissionDeniedError
from tests.support.stores import DictKeyStore

pytestmark = pytest.mark.anyio


def key(role: Role, team: str | None = "t1", **kw: object) -> Principal:
    return Principal(kind="virtual_key", role=role, key_id=f"key_{role}", team=team, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("grant", "permission", "expected"),
    [
        ("*", "config.reload", True),
        ("keys.*", "keys.write", True),
        ("keys.*", "keys.read", True),
        ("keys.*", "keys", False),
        ("keys.*", "keysmith.write", False),
        ("*.read", "spend.read", True),
        ("*.read", "mcp.tools.read", False),
        ("mcp.tools.*", "mcp.tools.call", True),
        ("mcp.*", "mcp.tools.call", True),
        ("keys.read", "keys.read", True),
        ("keys.read", "keys.write", False),
        ("keys.read", "keys.read.all", False),
    ],
)
def test_grant_patterns(grant: str, permission: str, expected: bool) -> None:
    assert grant_matches(grant, permission) is expected


@pytest.mark.parametrize(
    ("role", "allowed", "denied"),
    [
        ("admin", ["config.reload", "teams.write", "a2a.agents.write", "keys.write", "anything.at.all"], []),
        (
            "team_admin",
            [
                "keys.write",
                "keys.read",
                "models.read",
                "spend.read",
                "requests.read",
                "policy.explain",
                "mcp.tools.call",
                "llm.call",
            ],
            ["config.reload", "teams.write", "a2a.agents.write"],
        ),
        (
            "member",
            ["models.read", "llm.call", "mcp.tools.call", "requests.read"],
            ["keys.write", "keys.read", "spend.read"],
        ),
        (
            "viewer",
            ["models.read", "keys.read", "spend.read", "requests.read"],
            ["keys.write", "llm.call", "mcp.tools.call"],
        ),
    ],
)
def test_role_table(role: Role, allowed: list[str], denied: list[str]) -> None:
    principal = key(role)
    for permission in allowed:
        assert has_permission(principal, permission), permission
    for permission in denied:
        assert not has_permission(principal, permission), permission


def test_require_raises_403_naming_the_permission() -> None:
    require(Principal.admin(), "config.reload")
    with pytest.raises(PermissionDeniedError) as info:
        require(key("member"), "keys.write")
    assert info.value.status_code == 403
    assert "keys.write" in info.value.message
    assert info.value.code == "permission_denied"


def test_custom_role_table() -> None:
    table = {"member": ("keys.read",)}
    assert has_permission(key("member"), "keys.read", table)  # type: ignore[arg-type]
    assert not has_permission(key("member"), "llm.call", table)  # type: ignore[arg-type]


def test_team_confinement_and_grants() -> None:
    assert can_manage(Principal.admin(), "anything")
    assert can_manage(Principal.admin(), None)
    assert can_manage(key("team_admin"), "t1")
    assert not can_manage(key("team_admin"), "t2")
    assert not can_manage(key("team_admin"), None)
    assert not can_manage(key("team_admin", team=None), None)
    assert can_grant(key("team_admin"), "member")
    assert can_grant(key("team_admin"), "team_admin")
    assert not can_grant(key("team_admin"), "admin")


def test_model_allow_list() -> None:
    require_model(key("member"), "anything")  # empty list: all models
    restricted = key("member", allowed_models=("demo",))
    require_model(restricted, "demo")
    with pytest.raises(PermissionDeniedError) as info:
        require_model(restricted, "gpt-4o")
    assert info.value.code == "model_not_allowed"


@pytest.fixture
def service() -> KeyService:
    return KeyService(DictKeyStore(), KeyHasher("a-server-secret-of-length"), clock=lambda: 1000.0)


async def test_team_admin_manages_only_its_team(service: KeyService) -> None:
    admin, team_admin = Principal.admin(), key("team_admin")
    own = await service.issue(team_admin, NewKey(role="member"))
    assert own.record.team == "t1"  # defaults to the actor's team
    other = await service.issue(admin, NewKey(team="t2"))
    for call in (
        service.revoke(team_admin, other.record.key_id),
        service.rotate(team_admin, other.record.key_id),
        service.update(team_admin, other.record.key_id, KeyPatch(allowed_models=("x",))),
        service.get(team_admin, other.record.key_id),
        service.issue(team_admin, NewKey(team="t2")),
        service.list_keys(team_admin, team="t2"),
    ):
        with pytest.raises(PermissionDeniedError):
            await call
    page = await service.list_keys(team_admin)
    assert [k.key_id for k in page.items] == [own.record.key_id]
    assert len((await service.list_keys(admin)).items) == 2
    await service.revoke(team_admin, own.record.key_id)


async def test_no_privilege_escalation(service: KeyService) -> None:
    with pytest.raises(PermissionDeniedError) as info:
        await service.issue(key("team_admin"), NewKey(role="admin"))
    assert info.value.code == "role_forbidden"
    for role in ("member", "viewer"):
        with pytest.raises(PermissionDeniedError):
            await service.issue(key(role), NewKey(role="viewer"))  # type: ignore[arg-type]


async def test_viewer_reads_its_team_only(service: KeyService) -> None:
    mine = await service.issue(Principal.admin(), NewKey(team="t1"))
    await service.issue(Principal.admin(), NewKey(team="t2"))
    viewer = key("viewer")
    assert [k.key_id for k in (await service.list_keys(viewer)).items] == [mine.record.key_id]
    with pytest.raises(PermissionDeniedError):
        await service.revoke(viewer, mine.record.key_id)


async def test_unknown_key_is_404_and_bad_input_400(service: KeyService) -> None:
    with pytest.raises(NotFoundError):
        await service.revoke(Principal.admin(), "key_missing")
    issued = await service.issue(Principal.admin(), NewKey())
    await service.revoke(Principal.admin(), issued.record.key_id)
    with pytest.raises(Exception, match="revoked") as info:
        await service.rotate(Principal.admin(), issued.record.key_id)
    assert getattr(info.value, "status_code", None) == 400
    with pytest.raises(Exception, match="past"):
        await service.issue(Principal.admin(), NewKey(expires_at=10.0))
    with pytest.raises(Exception, match="limit"):
        await service.list_keys(Principal.admin(), limit=0)
