"""``/admin/keys``: issue, list, inspect, update, rotate and revoke virtual keys (RBAC-enforced)."""

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
from routeiq_core.access import (
    Budget,
    KeyPatch,
    KeyService,
    NewKey,
    Principal,
    Role,
    VirtualKey,
)

_FIELDS = frozenset({"role", "alias", "user", "team", "models", "budget", "expires_at", "metadata"})
_PATCHABLE: tuple[PatchField, ...] = (
    ("models", "allowed_models", tuple[str, ...]),
    ("alias", "alias", str | None),
    ("expires_at", "expires_at", float | None),
    ("budget", "budget", Budget | None),
    ("metadata", "metadata", dict[str, Any]),
)


class KeyView(msgspec.Struct, kw_only=True):
    """A key as the API shows it: never the hash, the secret only right after issue/rotate."""

    key_id: str
    hint: str
    role: Role
    alias: str | None
    user: str | None
    team: str | None
    models: tuple[str, ...]
    limits: dict[str, float]
    budget: Budget | None
    expires_at: float | None
    metadata: dict[str, Any]
    created_at: float
    revoked_at: float | None
    key: str | None = None


class KeyList(msgspec.Struct, kw_only=True):
    """One page of keys."""

    data: list[KeyView]
    next_after: str | None = None


def view(record: VirtualKey, secret: str | None = None) -> KeyView:
    """The API view of a stored key."""
    return KeyView(
        key_id=record.key_id,
        hint=record.hint,
        role=record.role,
        alias=record.alias,
        user=record.user,
        team=record.team,
        models=record.allowed_models,
        limits=limit_table(record.limits),
        budget=record.budget,
        expires_at=record.expires_at,
        metadata=dict(record.metadata),
        created_at=record.created_at,
        revoked_at=record.revoked_at,
        key=secret,
    )


@post(
    "/admin/keys", summary="Issue a virtual key (the secret is shown once)", tags=["admin"], status_code=201
)
async def issue_key(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    key_service: NamedDependency[KeyService],
) -> KeyView:
    """E.g. ``{"rpm": 50, "models": ["demo"], "team": "t1"}``.

    Limits are written ``rpm``, ``tpm``, ... or ``<metric>_per_<window>``.
    """
    body = await body_of(request)
    spec = NewKey(
        role=convert(body.get("role", "member"), Role, "role"),
        alias=convert(body.get("alias"), str | None, "alias"),
        user=convert(body.get("user"), str | None, "user"),
        team=convert(body.get("team"), str | None, "team"),
        allowed_models=convert(body.get("models", ()), tuple[str, ...], "models"),
        limits=limits_of(body, _FIELDS),
        budget=convert(body.get("budget"), Budget | None, "budget"),
        expires_at=convert(body.get("expires_at"), float | None, "expires_at"),
        metadata=convert(body.get("metadata", {}), dict[str, Any], "metadata"),
    )
    issued = await key_service.issue(principal, spec)
    return view(issued.record, issued.key)


@get("/admin/keys", summary="List virtual keys", tags=["admin"])
async def list_keys(
    principal: NamedDependency[Principal],
    key_service: NamedDependency[KeyService],
    team: FromQuery[str | None] = None,
    user: FromQuery[str | None] = None,
    limit: FromQuery[int] = 100,
    after: FromQuery[str | None] = None,
) -> KeyList:
    """Keys visible to the caller (all for an admin, its team's for a team admin)."""
    page = await key_service.list_keys(principal, team=team, user=user, limit=limit, after=after)
    return KeyList(data=[view(k) for k in page.items], next_after=page.next_cursor)


@get("/admin/keys/{key_id:str}", summary="One virtual key", tags=["admin"])
async def get_key(
    key_id: FromPath[str], principal: NamedDependency[Principal], key_service: NamedDependency[KeyService]
) -> KeyView:
    """A key without its secret."""
    return view(await key_service.get(principal, key_id))


@patch("/admin/keys/{key_id:str}", summary="Update a key's limits, models, budget, expiry", tags=["admin"])
async def update_key(
    key_id: FromPath[str],
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    key_service: NamedDependency[KeyService],
) -> KeyView:
    """Only the fields given change; limit keys replace the key's limits."""
    changes = patch_changes(await body_of(request), _PATCHABLE, _FIELDS)
    return view(await key_service.update(principal, key_id, KeyPatch(**changes)))


@post("/admin/keys/{key_id:str}/rotate", summary="New secret for a key", tags=["admin"], status_code=200)
async def rotate_key(
    key_id: FromPath[str], principal: NamedDependency[Principal], key_service: NamedDependency[KeyService]
) -> KeyView:
    """The old secret stops working (on other workers within the key cache TTL)."""
    issued = await key_service.rotate(principal, key_id)
    return view(issued.record, issued.key)


@delete("/admin/keys/{key_id:str}", summary="Revoke a key", tags=["admin"], status_code=200)
async def revoke_key(
    key_id: FromPath[str], principal: NamedDependency[Principal], key_service: NamedDependency[KeyService]
) -> KeyView:
    """Revoked keys are refused (on other workers within the key cache TTL)."""
    return view(await key_service.revoke(principal, key_id))


key_routes = (issue_key, list_keys, get_key, update_key, rotate_key, revoke_key)
