"""Who is calling: the principal every request resolves to, from its bearer key only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

import msgspec

from routeiq_core.access.quota_limits import Budget, QuotaLimit
from routeiq_core.catalog import matches

PrincipalKind = Literal["admin", "virtual_key", "anonymous"]
Role = Literal["admin", "team_admin", "member", "viewer", "auditor"]
ROLES: tuple[Role, ...] = get_args(Role)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The identity and entitlements of one caller.

    Attributes:
        kind: ``admin`` (the master key), ``virtual_key`` or ``anonymous`` (an open gateway).
        key_id: Public id of the virtual key (never the secret); None for the master key.
        user: The user the key was issued to, if any.
        team: The team the key belongs to; team admins manage only their team.
        role: RBAC role (see :mod:`routeiq_core.access.rbac`).
        allowed_models: Model groups this key may call (an entry may be a wildcard pattern such as
            ``openai/*``); empty means all.
        limits: Rate and spend limits of this key.
        budget: Spend budget of this key, if any.
        expires_at: Unix time after which the key is refused; None never expires.
        metadata: Free-form labels set at creation (shown in reports, never used for identity).
    """

    kind: PrincipalKind
    role: Role
    key_id: str | None = None
    user: str | None = None
    team: str | None = None
    allowed_models: tuple[str, ...] = ()
    limits: tuple[QuotaLimit, ...] = ()
    budget: Budget | None = None
    expires_at: float | None = None
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)

    @classmethod
    def admin(cls) -> Principal:
        """The master-key holder: every permission, no limits."""
        return cls(kind="admin", role="admin")

    @classmethod
    def anonymous(cls, role: Role = "admin") -> Principal:
        """The caller of a gateway running open (no master key, loopback only)."""
        return cls(kind="anonymous", role=role)

    def allows_model(self, model_group: str) -> bool:
        """Whether this principal may call ``model_group`` (named, or matched by a pattern it holds)."""
        return not self.allowed_models or any(
            matches(allowed, model_group) for allowed in self.allowed_models
        )

    def all_limits(self) -> tuple[QuotaLimit, ...]:
        """The key's limits with its budget folded in as a spend limit."""
        return self.limits if self.budget is None else (*self.limits, self.budget.as_limit())

    @property
    def label(self) -> str:
        """A loggable name: the key id, ``admin`` or ``anonymous`` (never a secret)."""
        return self.key_id or self.kind
