"""What the access services need of the audit trail (:class:`routeiq_core.audit.AuditTrail` is one).

Declared here, by its users, so that access control does not depend on the audit package (which
depends on access for principals and RBAC).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, Protocol

import msgspec

from routeiq_core.access.principal import Principal
from routeiq_core.errors import PermissionDeniedError

Outcome = Literal["ok", "failed", "denied"]


class AdminAudit(Protocol):
    """Records admin actions and counts refused ones."""

    async def admin(
        self,
        actor: Principal,
        action: str,
        *,
        target: str | None = None,
        outcome: Outcome = "ok",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Record ``action`` done by ``actor`` (never raises)."""
        ...

    def denied(self, actor: Principal, action: str) -> None:
        """Count that ``actor`` was refused ``action`` (summarised, never raises)."""
        ...


@contextmanager
def counting_denials(audit: AdminAudit | None, actor: Principal, action: str) -> Iterator[None]:
    """Within the block, a 403 is counted as a denial of ``action`` before it propagates."""
    try:
        yield
    except PermissionDeniedError:
        if audit is not None:
            audit.denied(actor, action)
        raise


def patch_details(changes: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a patch: the fields changed and their new values.

    Metadata is free-form (a caller might put anything there), so only its keys are kept.
    """
    shown = {name: msgspec.to_builtins(value) for name, value in changes.items() if name != "metadata"}
    if "metadata" in changes:
        shown["metadata_keys"] = sorted(changes["metadata"])
    return {"fields": sorted(changes), **shown}
