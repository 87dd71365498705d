"""Teams: the stored record, the ``TeamStore`` port and the service behind ``/admin/teams``.

A team groups keys (``VirtualKey.team`` holds its id) and carries the models, limits and budget its
members share. Deleting a team is soft: the row keeps its id and gains ``deleted_at``, so keys, spend
reports and audit logs that name it stay unambiguous, and the id is never reused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import msgspec

from routeiq_core.access.audited import AdminAudit, counting_denials, patch_details
from routeiq_core.access.principal import Principal
from routeiq_core.access.quota_limits import Budget, QuotaLimit, check_entitlements
from routeiq_core.access.rbac import require, require_team
from routeiq_core.errors import ConflictError, InvalidRequestError, NotFoundError, ServiceUnavailableError

TEAM_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_ALIAS_LENGTH = 256
MAX_PAGE_SIZE = 1000


class Team(msgspec.Struct, frozen=True, kw_only=True):
    """A stored team; ``deleted_at`` is set once it is (softly) deleted."""

    team_id: str
    alias: str | None = None
    allowed_models: tuple[str, ...] = ()
    limits: tuple[QuotaLimit, ...] = ()
    budget: Budget | None = None
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0
    deleted_at: float | None = None


class NewTeam(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to create: ``team_id`` is a slug of 1-64 characters ``[a-z0-9][a-z0-9_-]*``."""

    team_id: str
    alias: str | None = None
    allowed_models: tuple[str, ...] = ()
    limits: tuple[QuotaLimit, ...] = ()
    budget: Budget | None = None
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)


class TeamPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A change of a team; fields left ``UNSET`` keep their value, ``None`` clears alias or budget."""

    alias: str | msgspec.UnsetType | None = msgspec.UNSET
    allowed_models: tuple[str, ...] | msgspec.UnsetType = msgspec.UNSET
    limits: tuple[QuotaLimit, ...] | msgspec.UnsetType = msgspec.UNSET
    budget: Budget | msgspec.UnsetType | None = msgspec.UNSET
    metadata: Mapping[str, Any] | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> dict[str, Any]:
        """The fields that are set, by name."""
        return {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not msgspec.UNSET
        }


class TeamPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of a team listing; pass ``next_cursor`` as ``after`` to get the next."""

    items: tuple[Team, ...]
    next_cursor: str | None = None


class TeamStoreError(ServiceUnavailableError):
    """A team store could not answer (connection refused, timeout, driver error): 503."""

    default_code = "team_store_unavailable"


class TeamStore(Protocol):
    """Where teams live (SQLite embedded, PostgreSQL for several nodes), next to the keys.

    Deleted teams stay stored: ``get`` returns them (with ``deleted_at``), listings skip them and
    updates refuse them. Failures raise :class:`TeamStoreError`; every call is bounded by the adapter's
    timeout.
    """

    async def ensure_schema(self) -> None:
        """Create or migrate the schema (idempotent, safe to run from many processes at once)."""
        ...

    async def create(self, team: Team) -> None:
        """Store a new team; raises ``ConflictError`` if its id exists, deleted teams included."""
        ...

    async def get(self, team_id: str) -> Team | None:
        """The team with this id, deleted or not; None if there never was one."""
        ...

    async def list_teams(self, *, limit: int = 100, after: str | None = None) -> TeamPage:
        """Teams not deleted, ordered by id, ``limit`` at a time after the cursor ``after``."""
        ...

    async def update(self, team_id: str, patch: TeamPatch, now: float) -> Team | None:
        """Apply ``patch`` atomically; None if the team does not exist or is deleted."""
        ...

    async def delete(self, team_id: str, now: float) -> Team | None:
        """Mark the team deleted (idempotent: a second call changes nothing); None if missing."""
        ...

    async def close(self) -> None:
        """Release connections (a later call reopens them)."""
        ...


class TeamService:
    """The use cases behind ``/admin/teams``; every method takes the acting principal.

    Permissions: ``teams.write`` to create, change and delete (admins only by the default roles);
    ``teams.read`` to read, where anyone but an admin sees only its own team.

    Args:
        store: The team store.
        clock: Unix time.
        limits_unavailable: Why this deployment cannot enforce limits (then teams get none); None: it can.
        audit: Records every change (``team.create``, ``team.update``, ``team.delete``) and counts
            refused ones; None records nothing.
    """

    def __init__(
        self,
        store: TeamStore,
        clock: Callable[[], float] = time.time,
        limits_unavailable: str | None = None,
        audit: AdminAudit | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._limits_unavailable = limits_unavailable
        self._audit = audit

    async def create(self, actor: Principal, spec: NewTeam) -> Team:
        """Create a team; ``ConflictError`` (409) if the id is taken, even by a deleted team."""
        with counting_denials(self._audit, actor, "team.create"):
            require(actor, "teams.write")
        _check_team_id(spec.team_id)
        _check_fields(spec.alias, spec.allowed_models, spec.limits, spec.budget, spec.metadata)
        check_entitlements(spec.limits, spec.budget, self._limits_unavailable)
        now = self._clock()
        team = Team(
            team_id=spec.team_id,
            alias=spec.alias,
            allowed_models=spec.allowed_models,
            limits=spec.limits,
            budget=spec.budget,
            metadata=spec.metadata,
            created_at=now,
            updated_at=now,
        )
        await self._store.create(team)
        await self._record(
            actor,
            "team.create",
            team.team_id,
            {
                "alias": team.alias,
                "allowed_models": list(team.allowed_models),
                "limits": msgspec.to_builtins(team.limits),
                "budget": msgspec.to_builtins(team.budget),
            },
        )
        return team

    async def get(self, actor: Principal, team_id: str) -> Team:
        """One team, deleted ones included (check ``deleted_at``)."""
        require(actor, "teams.read")
        require_team(actor, team_id)
        return _found(await self._store.get(team_id), team_id)

    async def list_teams(self, actor: Principal, *, limit: int = 100, after: str | None = None) -> TeamPage:
        """Teams not deleted: all of them for an admin, only its own team for anyone else."""
        require(actor, "teams.read")
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidRequestError(f"limit must be between 1 and {MAX_PAGE_SIZE}.", param="limit")
        if actor.role == "admin":
            return await self._store.list_teams(limit=limit, after=after)
        team_id = actor.team
        require_team(actor, team_id)  # 403 for anyone but an admin without a team
        own = None if team_id is None else await self._store.get(team_id)
        if own is None or own.deleted_at is not None or (after is not None and own.team_id <= after):
            return TeamPage(items=())
        return TeamPage(items=(own,))

    async def update(self, actor: Principal, team_id: str, patch: TeamPatch) -> Team:
        """Change a team's alias, models, limits, budget or metadata; 409 once it is deleted."""
        with counting_denials(self._audit, actor, "team.update"):
            require(actor, "teams.write")
            require_team(actor, team_id)
        changes = patch.changes()
        _check_fields(
            changes.get("alias"),
            changes.get("allowed_models", ()),
            changes.get("limits", ()),
            changes.get("budget"),
            changes.get("metadata", {}),
        )
        check_entitlements(changes.get("limits", ()), changes.get("budget"), self._limits_unavailable)
        current = _found(await self._store.get(team_id), team_id)
        if current.deleted_at is not None:
            raise ConflictError(f"Team {team_id!r} is deleted and cannot be changed.", code="team_deleted")
        updated = _found(await self._store.update(team_id, patch, self._clock()), team_id)
        await self._record(actor, "team.update", team_id, patch_details(changes))
        return updated

    async def delete(self, actor: Principal, team_id: str) -> Team:
        """Delete a team softly (idempotent); its keys are not touched and should be revoked apart."""
        with counting_denials(self._audit, actor, "team.delete"):
            require(actor, "teams.write")
            require_team(actor, team_id)
        deleted = _found(await self._store.delete(team_id, self._clock()), team_id)
        await self._record(actor, "team.delete", team_id, {"deleted_at": deleted.deleted_at})
        return deleted

    async def _record(self, actor: Principal, action: str, team_id: str, details: dict[str, Any]) -> None:
        if self._audit is not None:
            await self._audit.admin(actor, action, target=team_id, details=details)


def _found(team: Team | None, team_id: str) -> Team:
    if team is None:
        raise NotFoundError(f"No team with id {team_id!r}.", param="team_id", code="team_not_found")
    return team


def _check_team_id(team_id: str) -> None:
    if not TEAM_ID_PATTERN.match(team_id):
        raise InvalidRequestError(
            f"team_id must be 1-64 characters of a-z, 0-9, '_' and '-', starting with a letter or digit; "
            f"got {team_id!r}.",
            param="team_id",
            code="invalid_team_id",
        )


def _check_fields(
    alias: str | None,
    allowed_models: tuple[str, ...],
    limits: tuple[QuotaLimit, ...],
    budget: Budget | None,
    metadata: Mapping[str, Any],
) -> None:
    if alias is not None and not 1 <= len(alias.strip()) <= MAX_ALIAS_LENGTH:
        raise InvalidRequestError(f"alias must be 1-{MAX_ALIAS_LENGTH} characters, not blank.", param="alias")
    if any(not model.strip() for model in allowed_models) or len(set(allowed_models)) != len(allowed_models):
        raise InvalidRequestError(
            "allowed_models must list distinct, non-empty model group names.", param="allowed_models"
        )
    check_entitlements(limits, budget)
    try:
        if not all(isinstance(name, str) for name in metadata):
            raise TypeError("its keys must be strings")
        msgspec.json.encode(metadata)
    except (TypeError, OverflowError, msgspec.EncodeError) as exc:
        raise InvalidRequestError(f"metadata must be a JSON object: {exc}.", param="metadata") from exc
