"""Key administration: issue, list, rotate, revoke and change keys, enforcing RBAC on the actor."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from routeiq_core.access.audited import AdminAudit, counting_denials, patch_details
from routeiq_core.access.keys import (
    IssuedKey,
    KeyHasher,
    KeyPage,
    KeyPatch,
    KeyStore,
    VirtualKey,
    generate_key,
    key_hint,
    new_key_id,
)
from routeiq_core.access.principal import Principal, Role
from routeiq_core.access.quota_limits import Budget, QuotaLimit, check_entitlements
from routeiq_core.access.rbac import can_grant, require, require_team
from routeiq_core.access.teams import TeamStore
from routeiq_core.errors import InvalidRequestError, NotFoundError, PermissionDeniedError


class NewKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to issue. A team admin's keys always belong to its own team."""

    role: Role = "member"
    alias: str | None = None
    user: str | None = None
    team: str | None = None
    allowed_models: tuple[str, ...] = ()
    limits: tuple[QuotaLimit, ...] = ()
    budget: Budget | None = None
    expires_at: float | None = None
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)


class KeyService:
    """The use cases behind ``/admin/keys``; every method takes the acting principal.

    Permissions: ``keys.write`` to issue, rotate, revoke and change; ``keys.read`` to read. Anyone but
    an admin acts only on keys of its own team and never grants a role above its own.

    Args:
        store: The key store (pass the :class:`CachedKeyStore` so changes evict this worker's cache).
        hasher: The keyed hash for new secrets.
        clock: Unix time.
        teams: The team store: a key is not issued for a deleted team (a team name without a record
            is a plain label and is allowed).
        limits_unavailable: Why this deployment cannot enforce limits (then keys get none); None: it can.
        audit: Records every change (``key.issue``, ``key.patch``, ``key.rotate``, ``key.revoke``,
            never a secret nor its hash) and counts refused ones; None records nothing.
    """

    def __init__(
        self,
        store: KeyStore,
        hasher: KeyHasher,
        clock: Callable[[], float] = time.time,
        teams: TeamStore | None = None,
        limits_unavailable: str | None = None,
        audit: AdminAudit | None = None,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._clock = clock
        self._teams = teams
        self._limits_unavailable = limits_unavailable
        self._audit = audit

    async def issue(self, actor: Principal, spec: NewKey) -> IssuedKey:
        """Create a key; the returned secret is not stored and cannot be shown again."""
        with counting_denials(self._audit, actor, "key.issue"):
            issued = await self._issue(actor, spec)
        record = issued.record
        await self._record(
            actor,
            "key.issue",
            record.key_id,
            {
                "role": record.role,
                "team": record.team,
                "user": record.user,
                "alias": record.alias,
                "allowed_models": list(record.allowed_models),
                "limits": msgspec.to_builtins(record.limits),
                "budget": msgspec.to_builtins(record.budget),
                "expires_at": record.expires_at,
            },
        )
        return issued

    async def _issue(self, actor: Principal, spec: NewKey) -> IssuedKey:
        require(actor, "keys.write")
        team = spec.team if spec.team is not None or actor.role == "admin" else actor.team
        require_team(actor, team)
        if not can_grant(actor, spec.role):
            raise PermissionDeniedError(
                f"A {actor.role!r} cannot issue a key with the role {spec.role!r}.", code="role_forbidden"
            )
        check_entitlements(spec.limits, spec.budget, self._limits_unavailable)
        now = self._clock()
        if spec.expires_at is not None and spec.expires_at <= now:
            raise InvalidRequestError("expires_at is in the past.", param="expires_at")
        if team is not None and self._teams is not None:
            team_record = await self._teams.get(team)
            if team_record is not None and team_record.deleted_at is not None:
                raise InvalidRequestError(
                    f"The team {team!r} was deleted; keys cannot be issued for it.",
                    param="team",
                    code="team_deleted",
                )
        secret = generate_key()
        record = VirtualKey(
            key_id=new_key_id(),
            key_hash=self._hasher.hash(secret),
            hint=key_hint(secret),
            role=spec.role,
            alias=spec.alias,
            user=spec.user,
            team=team,
            allowed_models=spec.allowed_models,
            limits=spec.limits,
            budget=spec.budget,
            expires_at=spec.expires_at,
            metadata=spec.metadata,
            created_at=now,
            updated_at=now,
        )
        await self._store.create(record)
        return IssuedKey(key=secret, record=record)

    async def get(self, actor: Principal, key_id: str) -> VirtualKey:
        """One key (without its secret)."""
        require(actor, "keys.read")
        return await self._owned(actor, key_id)

    async def list_keys(
        self,
        actor: Principal,
        *,
        team: str | None = None,
        user: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> KeyPage:
        """Keys visible to ``actor``: all for an admin, its team's otherwise."""
        require(actor, "keys.read")
        if actor.role != "admin":
            team = team if team is not None else actor.team
            require_team(actor, team)
        if not 1 <= limit <= 1000:
            raise InvalidRequestError("limit must be between 1 and 1000.", param="limit")
        return await self._store.list_keys(team=team, user=user, limit=limit, after=after)

    async def update(self, actor: Principal, key_id: str, patch: KeyPatch) -> VirtualKey:
        """Change a key's limits, budget, models, expiry, alias or metadata."""
        with counting_denials(self._audit, actor, "key.patch"):
            require(actor, "keys.write")
            limits = () if patch.limits is msgspec.UNSET else patch.limits
            budget = None if patch.budget is msgspec.UNSET else patch.budget
            check_entitlements(limits, budget, self._limits_unavailable)
            await self._owned(actor, key_id)
        updated = self._found(await self._store.update(key_id, patch, self._clock()), key_id)
        details = {**patch_details(patch.changes()), "team": updated.team}
        await self._record(actor, "key.patch", key_id, details)
        return updated

    async def rotate(self, actor: Principal, key_id: str) -> IssuedKey:
        """Give the key a new secret; the old one stops working at once.

        On other workers the old secret works until their key cache entry expires (the cache TTL).
        """
        with counting_denials(self._audit, actor, "key.rotate"):
            require(actor, "keys.write")
            record = await self._owned(actor, key_id)
        if record.revoked_at is not None:
            raise InvalidRequestError(f"Key {key_id!r} is revoked and cannot be rotated.", code="key_revoked")
        secret = generate_key()
        rotated = await self._store.rotate(key_id, self._hasher.hash(secret), key_hint(secret), self._clock())
        issued = IssuedKey(key=secret, record=self._found(rotated, key_id))
        await self._record(actor, "key.rotate", key_id, {"team": record.team})
        return issued

    async def revoke(self, actor: Principal, key_id: str) -> VirtualKey:
        """Revoke a key for good (idempotent)."""
        with counting_denials(self._audit, actor, "key.revoke"):
            require(actor, "keys.write")
            await self._owned(actor, key_id)
        revoked = self._found(await self._store.revoke(key_id, self._clock()), key_id)
        await self._record(
            actor, "key.revoke", key_id, {"team": revoked.team, "revoked_at": revoked.revoked_at}
        )
        return revoked

    async def _record(self, actor: Principal, action: str, key_id: str, details: dict[str, Any]) -> None:
        if self._audit is not None:
            await self._audit.admin(actor, action, target=key_id, details=details)

    async def _owned(self, actor: Principal, key_id: str) -> VirtualKey:
        record = self._found(await self._store.get(key_id), key_id)
        require_team(actor, record.team)
        return record

    @staticmethod
    def _found(record: VirtualKey | None, key_id: str) -> VirtualKey:
        if record is None:
            raise NotFoundError(f"No key with id {key_id!r}.", param="key_id", code="key_not_found")
        return record
