"""What the audit log records: one admin or security event, who did it, from where, how it ended."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from routeiq_core.access.audited import Outcome
from routeiq_core.access.principal import Principal

MASTER_ACTOR = "master"
ANONYMOUS_ACTOR = "anonymous"
SYSTEM_ACTOR = "system"


class AuditEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One admin or security event.

    Never a secret: no key secret, no hash of one, no part of one (not even the hint).

    Attributes:
        at: Unix time of the event.
        action: What happened, dotted: ``key.issue``, ``team.delete``, ``config.reload``,
            ``auth.failure`` (a summary of a window), ...
        actor: Who did it: a virtual key id, ``master`` (the master key), ``anonymous`` (an open
            gateway) or ``system`` (RouteIQ itself: startup, summaries).
        role: The actor's role.
        team: The actor's team.
        source_ip: The client address the request came from (forwarding honoured only from trusted
            proxies); None when there was no request.
        target: What it acted on: a key id, a team id, a router name.
        outcome: ``ok``, ``failed`` (it was tried and did not work) or ``denied`` (not allowed).
        details: What else is worth knowing (the fields a patch changed, a summary's counts).
    """

    at: float
    action: str
    actor: str = SYSTEM_ACTOR
    role: str | None = None
    team: str | None = None
    source_ip: str | None = None
    target: str | None = None
    outcome: Outcome = "ok"
    details: Mapping[str, Any] = msgspec.field(default_factory=dict)


def actor_name(principal: Principal) -> str:
    """How the log names ``principal``: its key id, ``master`` or ``anonymous``."""
    if principal.key_id is not None:
        return principal.key_id
    return MASTER_ACTOR if principal.kind == "admin" else ANONYMOUS_ACTOR


def event_by(
    principal: Principal,
    action: str,
    *,
    at: float,
    target: str | None = None,
    outcome: Outcome = "ok",
    source_ip: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """An event done by ``principal``."""
    return AuditEvent(
        at=at,
        action=action,
        actor=actor_name(principal),
        role=principal.role,
        team=principal.team,
        source_ip=source_ip,
        target=target,
        outcome=outcome,
        details=dict(details or {}),
    )
