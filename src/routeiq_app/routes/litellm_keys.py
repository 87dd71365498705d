"""LiteLLM's ``/key/*`` endpoints on RouteIQ's key service, with the RBAC of ``/admin/keys``.

``/key/generate``, ``/key/info``, ``/key/update``, ``/key/delete`` (a revoke: RouteIQ keeps the record
for audit and spend reports) and ``/key/regenerate`` (also ``/key/{key}/regenerate``: the key keeps
its id and entitlements, gets a new secret, and the old one stops working). Every key may be named by
its secret (``sk-riq-...``) or its token (the key id, ``key_...``). Field mapping:
:mod:`routeiq_app.routes.litellm_key_body`.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from routeiq_app.routes.admin_body import body_of
from routeiq_app.routes.litellm_key_body import (
    LiteLLMKey,
    check_key_fields,
    key_id_of,
    key_list,
    key_patch,
    key_view,
    new_key,
    split_key,
)
from routeiq_core.access import KeyHasher, KeyService, KeyStore, Principal
from routeiq_core.errors import InvalidRequestError


class KeyInfo(msgspec.Struct, kw_only=True):
    """The answer of ``/key/info``: the key's token and its details (never the secret)."""

    key: str
    info: LiteLLMKey


class DeletedKeys(msgspec.Struct, kw_only=True):
    """The answer of ``/key/delete``: the keys as they were named."""

    deleted_keys: list[str]


@post("/key/generate", summary="LiteLLM: issue a virtual key", tags=["litellm"], status_code=200)
async def generate_key(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    key_service: NamedDependency[KeyService],
) -> LiteLLMKey:
    """Issue a member key, like ``POST /admin/keys``; the secret is in ``key`` and shown this once.

    E.g. ``{"models": ["demo"], "rpm_limit": 60, "max_budget": 10, "budget_duration": "30d",
    "duration": "7d", "team_id": "t1"}``.
    """
    spec = new_key(await body_of(request), time.time())
    issued = await key_service.issue(principal, spec)
    return key_view(issued.record, time.time(), issued.key)


@get("/key/info", summary="LiteLLM: one virtual key", tags=["litellm"])
async def key_info(
    principal: NamedDependency[Principal],
    key_service: NamedDependency[KeyService],
    key_store: NamedDependency[Any],
    key_hasher: NamedDependency[KeyHasher],
    key: FromQuery[str | None] = None,
) -> KeyInfo:
    """The key named by ``key`` (secret or token), else the caller's own; ``keys.read`` is required.

    Unlike LiteLLM, ``key`` in the answer is the token, never the secret.
    """
    if key is not None:
        key_id = await key_id_of(key, _store(key_store), key_hasher)
    elif principal.key_id is not None:
        key_id = principal.key_id
    else:
        raise InvalidRequestError(
            "key is required: the caller is not a virtual key; pass ?key=sk-riq-... or ?key=key_...",
            param="key",
        )
    record = await key_service.get(principal, key_id)
    return KeyInfo(key=record.key_id, info=key_view(record, time.time()))


@post("/key/update", summary="LiteLLM: change a virtual key", tags=["litellm"], status_code=200)
async def update_key(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    key_service: NamedDependency[KeyService],
    key_store: NamedDependency[Any],
    key_hasher: NamedDependency[KeyHasher],
) -> LiteLLMKey:
    """Only the fields given change, e.g. ``{"key": "sk-riq-...", "rpm_limit": 10, "duration": "1d"}``."""
    named, rest = split_key(await body_of(request))
    check_key_fields(rest)
    key_id = await key_id_of(named, _store(key_store), key_hasher)
    current = await key_service.get(principal, key_id)
    patch = key_patch(rest, current, time.time())
    return key_view(await key_service.update(principal, key_id, patch), time.time())


@post("/key/delete", summary="LiteLLM: revoke virtual keys", tags=["litellm"], status_code=200)
async def delete_keys(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    key_service: NamedDependency[KeyService],
    key_store: NamedDependency[Any],
    key_hasher: NamedDependency[KeyHasher],
) -> DeletedKeys:
    """``{"keys": [...]}``: every key is found and checked before any is revoked (idempotent)."""
    keys = key_list(await body_of(request))
    key_ids = [await key_id_of(k, _store(key_store), key_hasher, "keys") for k in keys]
    for key_id in key_ids:
        await key_service.get(principal, key_id)
    for key_id in key_ids:
        await key_service.revoke(principal, key_id)
    return DeletedKeys(deleted_keys=keys)


@post("/key/regenerate", summary="LiteLLM: new secret for a virtual key", tags=["litellm"], status_code=200)
async def regenerate_key(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    key_service: NamedDependency[KeyService],
    key_store: NamedDependency[Any],
    key_hasher: NamedDependency[KeyHasher],
) -> LiteLLMKey:
    """``{"key": "sk-riq-..."}`` and optionally changes as in ``/key/update``, applied first."""
    named, rest = split_key(await body_of(request))
    return await _regenerate(named, rest, principal, key_service, _store(key_store), key_hasher)


@post(
    "/key/{key:str}/regenerate",
    summary="LiteLLM: new secret for a virtual key (named in the path)",
    tags=["litellm"],
    status_code=200,
)
async def regenerate_named_key(
    key: FromPath[str],
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    key_service: NamedDependency[KeyService],
    key_store: NamedDependency[Any],
    key_hasher: NamedDependency[KeyHasher],
) -> LiteLLMKey:
    """As ``/key/regenerate``; prefer the token (``key_...``) in the path, paths end up in access logs."""
    body = await body_of(request)
    if body.get("key") not in (None, key):
        raise InvalidRequestError("The body names another key than the path; send one.", param="key")
    rest = {name: value for name, value in body.items() if name != "key"}
    return await _regenerate(key, rest, principal, key_service, _store(key_store), key_hasher)


async def _regenerate(
    named: str,
    changes: dict[str, Any],
    principal: Principal,
    key_service: KeyService,
    store: KeyStore,
    hasher: KeyHasher,
) -> LiteLLMKey:
    """Apply ``changes`` (an unrevoked key only), then rotate: a failed change leaves the secret as it was."""
    check_key_fields(changes)
    key_id = await key_id_of(named, store, hasher)
    current = await key_service.get(principal, key_id)
    patch = key_patch(changes, current, time.time())
    if patch.changes() and current.revoked_at is None:
        await key_service.update(principal, key_id, patch)
    issued = await key_service.rotate(principal, key_id)
    return key_view(issued.record, time.time(), issued.key)


def _store(key_store: Any) -> KeyStore:
    """The key store port (a Protocol cannot be a Litestar dependency type)."""
    store: KeyStore = key_store
    return store


litellm_key_routes = (generate_key, key_info, update_key, delete_keys, regenerate_key, regenerate_named_key)
