"""Rolling router versions out: follow promotions and canaries, and decide canaries from feedback.

:class:`PromotionWatcher` keeps every registry-backed routed name on its promoted version and, while
a canary runs, loads the candidate beside it (the candidate answers the canary's share of calls).
:class:`CanaryJudge` reads the scored calls of both arms from the feedback store, runs the sequential
test (:func:`~routeiq_core.routing.learned.canary.verdict`) and, on a decision, ends the canary —
exactly one worker wins that — then promotes the candidate or leaves the incumbent serving (a
rollback), and reports the decision (the audit log, the log).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import anyio

from routeiq_core.calls.routed import RoutedModels
from routeiq_core.feedback import FeedbackQuery, FeedbackRecord, FeedbackStore
from routeiq_core.routing.learned.artifact_registry import ArtifactRegistry, Canary
from routeiq_core.routing.learned.canary import CanaryVerdict, verdict
from routeiq_core.routing.learned.pipeline import RoutingModel

logger = logging.getLogger("routeiq.routing.registry")
Loader = Callable[[str, Path], RoutingModel]
"""Loads and verifies a routed name's fetched artifact directory (slow: run on a worker thread)."""
OnDecision = Callable[[Canary, CanaryVerdict], Awaitable[None]]
FEEDBACK_PAGE = 500
MAX_FEEDBACK_READ = 50_000
"""Most feedback records one check reads for one canary."""


class PromotionWatcher:
    """Keeps registry-backed routed names on their promoted versions, and their canaries loaded.

    Args:
        registry: Where versions, promotions and canaries live.
        names: Routed name → registry name.
        routed: The routed names (their serving routers and canary arms are swapped atomically).
        load: Loads a routed name's fetched artifact directory (refusing a version unfit for it).
        cache_dir: Where fetched versions are kept.
    """

    def __init__(
        self,
        registry: ArtifactRegistry,
        names: Mapping[str, str],
        routed: RoutedModels,
        load: Loader,
        cache_dir: Path,
    ) -> None:
        self._registry = registry
        self._names = dict(names)
        self._routed = routed
        self._load = load
        self._cache = cache_dir
        self.serving: dict[str, int] = {}
        """Routed name → the registry version it serves."""
        self.last_error: str | None = None
        """What kept a name off its promoted version or canary at the last sync (None: nothing)."""
        self._refused: dict[tuple[str, int], str] = {}

    async def sync(self) -> dict[str, int]:
        """Load each name's promoted version and canary candidate where they changed.

        Returns the routed names whose serving version changed. A name whose registry cannot be
        read keeps its router and is retried at the next sync; a version that fails to load is
        refused until another is promoted. Errors are logged and kept in :attr:`last_error`; the
        other names still sync.
        """
        changed: dict[str, int] = {}
        errors: list[str] = []
        for routed, name in self._names.items():
            try:
                promotion = await self._registry.promoted(name)
                canary = await self._registry.canary(name)
            except Exception as exc:  # an outage: retried at the next poll
                errors.append(f"{routed} ({name}): {exc}")
                logger.error("router registry: keeping the serving router of %s: %s", routed, exc)
                continue
            if promotion is not None and self.serving.get(routed) != promotion.version:
                model = await self._fetch(routed, name, promotion.version, errors)
                if model is not None:
                    self._routed.serve_version(routed, model, promotion.version)
                    self.serving[routed] = changed[routed] = promotion.version
                    logger.info(
                        "router registry: %s now serves %s version %d", routed, name, promotion.version
                    )
            await self._follow_canary(routed, name, canary, errors)
        self.last_error = "; ".join(errors) or None
        return changed

    async def watch(self, interval_s: float) -> None:
        """Sync every ``interval_s`` until cancelled."""
        while True:
            await anyio.sleep(interval_s)
            await self.sync()

    async def _follow_canary(self, routed: str, name: str, canary: Canary | None, errors: list[str]) -> None:
        running = self._routed.canary(routed)
        if canary is None or canary.candidate == self.serving.get(routed) or routed not in self.serving:
            if running is not None:
                self._routed.stop_canary(routed)
                logger.info("router registry: the canary of %s ended", routed)
            return
        if running == (canary.share, canary.candidate):
            return
        model = await self._fetch(routed, name, canary.candidate, errors)
        if model is not None:
            self._routed.start_canary(routed, model, canary.candidate, canary.share)
            logger.info(
                "router registry: %s canary: version %d answers %.0f%%",
                routed,
                canary.candidate,
                canary.share * 100,
            )

    async def _fetch(self, routed: str, name: str, version: int, errors: list[str]) -> RoutingModel | None:
        refused = self._refused.get((routed, version))
        if refused is not None:
            errors.append(refused)
            return None
        try:
            directory = await self._registry.fetch(name, version, self._cache)
        except Exception as exc:  # an outage: retried at the next poll
            errors.append(f"{routed} ({name} version {version}): {exc}")
            logger.error("router registry: cannot fetch %s version %d: %s", name, version, exc)
            return None
        try:
            return await anyio.to_thread.run_sync(self._load, routed, directory)
        except Exception as exc:  # a version unfit to serve: not retried
            message = f"{routed} ({name} version {version}): {exc}"
            self._refused[(routed, version)] = message
            errors.append(message)
            logger.error("router registry: refusing %s", message)
            return None


class CanaryJudge:
    """Decides the running canaries of registry-backed routed names from their scored calls.

    One score per call counts (a client's over the evaluator's); the incumbent's arm is the calls
    its version answered since the canary started. Every worker may check: ending the canary in the
    registry is exclusive, so one of them acts on a decision.

    Args:
        registry: Where canaries and promotions live.
        names: Routed name → registry name.
        feedback: The scored calls.
        on_decision: Told each decision this worker acted on (the audit log).
        clock: Unix time.
    """

    def __init__(
        self,
        registry: ArtifactRegistry,
        names: Mapping[str, str],
        feedback: FeedbackStore,
        on_decision: OnDecision | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._registry = registry
        self._names = dict(names)
        self._feedback = feedback
        self._on_decision = on_decision
        self._clock = clock

    async def check(self) -> dict[str, CanaryVerdict]:
        """Test every running canary; act on decisions. Returns each tested name's verdict."""
        verdicts: dict[str, CanaryVerdict] = {}
        for routed, name in self._names.items():
            try:
                canary = await self._registry.canary(name)
                if canary is None:
                    continue
                arms = await self._arms(routed, canary)
                found = verdicts[routed] = verdict(canary, arms[canary.candidate], arms[canary.incumbent])
                if found.decision != "continue":
                    await self._act(canary, found)
            except Exception as exc:  # the registry or the feedback store is down: next check
                logger.error("canary of %s: cannot check it now: %s", routed, exc)
        return verdicts

    async def watch(self, interval_s: float) -> None:
        """Check every ``interval_s`` until cancelled."""
        while True:
            await anyio.sleep(interval_s)
            await self.check()

    async def _act(self, canary: Canary, found: CanaryVerdict) -> None:
        if not await self._registry.end_canary(canary.name, canary.candidate):
            return  # another worker decided it
        if found.decision == "promote":
            await self._registry.promote(canary.name, canary.candidate, by="canary", reason=found.reason)
        logger.warning(
            "canary of %s version %d: %s (%s)", canary.name, canary.candidate, found.decision, found.reason
        )
        if self._on_decision is not None:
            await self._on_decision(canary, found)

    async def _arms(self, routed: str, canary: Canary) -> dict[int, tuple[list[float], list[float]]]:
        """Scores and costs of the calls each arm answered since the canary started."""
        best: dict[str, FeedbackRecord] = {}
        unnamed: list[FeedbackRecord] = []
        before: float | None = None
        for _ in range(MAX_FEEDBACK_READ // FEEDBACK_PAGE):
            page = await self._feedback.query(
                FeedbackQuery(router=routed, since=canary.started_at, before=before, limit=FEEDBACK_PAGE)
            )
            for record in page:
                if record.score is None or record.router_version not in (canary.candidate, canary.incumbent):
                    continue
                if record.request_id is None:
                    unnamed.append(record)
                elif record.request_id not in best or best[record.request_id].source == "evaluator":
                    best[record.request_id] = record
            if len(page) < FEEDBACK_PAGE:
                break
            before = page[-1].at
        arms: dict[int, tuple[list[float], list[float]]] = {
            canary.candidate: ([], []),
            canary.incumbent: ([], []),
        }
        for record in (*best.values(), *unnamed):
            scores, costs = arms[record.router_version or 0]
            scores.append(record.score or 0.0)
            if record.cost is not None:
                costs.append(record.cost)
        return arms
