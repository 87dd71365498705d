"""The router-artifact registry port: versions of trained routers, their reports and lineage, promotion.

``routeiq routers publish`` stores a verified artifact directory as the next version of a name, with
its evaluation report and lineage (data, code version, parameters). ``promote`` points the name at a
version, ``rollback`` back at the version promoted before it; every promotion is kept in the name's
history. Gateways serving a routed name from the registry poll its promoted version and its canary
(:class:`routeiq_core.calls.rollout.PromotionWatcher`) and hot-swap the router when they change, so
every worker of every node converges on a promotion without a config reload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import msgspec

from routeiq_core.errors import InvalidRequestError, NotFoundError, ServiceUnavailableError

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
"""A registry name: lower-case letters, digits and ``. _ -``, 1 to 64 characters."""


class DataSource(msgspec.Struct, frozen=True, kw_only=True):
    """A table a router was trained on: where it was, its SHA-256 and its row count."""

    path: str
    sha256: str
    rows: int


class Lineage(msgspec.Struct, frozen=True, kw_only=True):
    """Where a version came from.

    Attributes:
        data: The training tables.
        code_version: The RouteIQ version that trained it.
        parameters: The training parameters (strategy, embedder, hyper-parameters...).
        parent: The version it was retrained from, if any.
    """

    data: tuple[DataSource, ...] = ()
    code_version: str = ""
    parameters: Mapping[str, Any] = msgspec.field(default_factory=dict)
    parent: int | None = None


class ArtifactVersion(msgspec.Struct, frozen=True, kw_only=True):
    """One published version of a router.

    Attributes:
        name: The registry name.
        version: 1, 2, ... in publication order.
        created_at: Unix time it was published.
        digest: The SHA-256 of the artifact's manifest (what a fetched copy must match).
        report: Its evaluation report (the ``routeiq eval`` / ``train`` JSON), if any.
        lineage: Where it came from.
    """

    name: str
    version: int
    created_at: float
    digest: str
    report: Mapping[str, Any] | None = None
    lineage: Lineage = msgspec.field(default_factory=Lineage)


class Promotion(msgspec.Struct, frozen=True, kw_only=True):
    """A name pointed at a version.

    Attributes:
        name: The registry name.
        version: The version now promoted.
        previous: The version promoted before (None for the first promotion).
        at: Unix time.
        by: Who promoted (an operator, ``canary``).
        reason: Why (``rollback``, a canary decision...).
    """

    name: str
    version: int
    previous: int | None
    at: float
    by: str = ""
    reason: str = ""


class Canary(msgspec.Struct, frozen=True, kw_only=True):
    """A candidate version serving a share of a name's traffic beside the promoted one.

    Attributes:
        name: The registry name.
        candidate: The version on trial.
        incumbent: The version promoted when the canary started.
        share: Share of requests the candidate answers (0 to 1).
        started_at: Unix time (feedback from before it does not count).
        by: Who started it.
        min_samples: Scored calls each arm needs before any decision.
        max_samples: Scored candidate calls after which an undecided canary keeps the incumbent.
        margin: How much lower the candidate's mean quality may be and still be promoted.
        alpha: The error rate of the sequential test (its confidence sequences hold at 1 - alpha).
        cost_tolerance: How much dearer per call (a share, 0.1 = 10%) the candidate may be.
    """

    name: str
    candidate: int
    incumbent: int
    share: float
    started_at: float
    by: str = ""
    min_samples: int = 30
    max_samples: int = 5_000
    margin: float = 0.02
    alpha: float = 0.05
    cost_tolerance: float = 0.1


class RegistryError(ServiceUnavailableError):
    """The registry's storage could not be read or written (503)."""

    default_code = "router_registry_unavailable"


class ArtifactRegistry(Protocol):
    """Port to where router versions live (a directory by default; an S3-compatible bucket)."""

    async def publish(
        self, name: str, artifact: Path, *, report: Mapping[str, Any] | None, lineage: Lineage
    ) -> ArtifactVersion:
        """Store the verified artifact directory ``artifact`` as the next version of ``name``."""
        ...

    async def names(self) -> list[str]:
        """Every name with at least one version, sorted."""
        ...

    async def versions(self, name: str) -> list[ArtifactVersion]:
        """The versions of ``name``, oldest first (empty when there are none)."""
        ...

    async def fetch(self, name: str, version: int, into: Path) -> Path:
        """A local, verified copy of a version under ``into`` (reused when already there).

        Raises:
            NotFoundError: No such version.
        """
        ...

    async def promoted(self, name: str) -> Promotion | None:
        """The current promotion of ``name`` (None: nothing promoted)."""
        ...

    async def promote(self, name: str, version: int, *, by: str, reason: str) -> Promotion:
        """Point ``name`` at ``version`` (which must exist) and record it in the history."""
        ...

    async def history(self, name: str) -> list[Promotion]:
        """Every promotion of ``name``, oldest first."""
        ...

    async def start_canary(self, canary: Canary) -> None:
        """Put ``canary.candidate`` on trial (replacing a running canary of the name)."""
        ...

    async def canary(self, name: str) -> Canary | None:
        """The running canary of ``name`` (None: none)."""
        ...

    async def end_canary(self, name: str, candidate: int) -> bool:
        """End the canary of ``candidate``; False when it was not running (another worker ended it)."""
        ...


def check_name(name: str) -> str:
    """``name`` if it is a valid registry name (400 otherwise)."""
    if not NAME_PATTERN.match(name):
        raise InvalidRequestError(
            f"{name!r} is not a registry name: use 1-64 lower-case letters, digits, '.', '_' or '-'.",
            param="name",
        )
    return name


async def rollback(registry: ArtifactRegistry, name: str, *, by: str, reason: str = "rollback") -> Promotion:
    """Promote again the version that was promoted before the current one.

    Raises:
        NotFoundError: Nothing is promoted, or the current promotion was the first.
    """
    current = await registry.promoted(name)
    if current is None or current.previous is None:
        raise NotFoundError(
            f"{name!r} has no earlier promoted version to roll back to.", code="no_previous_version"
        )
    return await registry.promote(name, current.previous, by=by, reason=reason)
