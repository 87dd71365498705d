"""Exploration: full-information routing data from real traffic, collected off the request path.

For a configured share of the calls to a routed name (and within a daily cost cap), the
:class:`Explorer` also asks every *other* candidate model group the same prompt, in the background —
the client's answer is never delayed — scores every answer with the configured scorer (the
heuristic or LLM-judge evaluator, or a user's function) and appends one row in the shared
routing-table format (``id``, ``prompt``, ``scores``, ``costs`` keyed by the router's model names) to
the :class:`RoutingDataset`. The next ``routeiq retrain`` then has per-model quality for real
prompts, not only for the model that was chosen.

Calls that are not explored still give an off-policy row (only the chosen model scored) with the
propensity of that choice, kept apart for counterfactual evaluation.
"""

from __future__ import annotations

import datetime
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import anyio
import msgspec

from routeiq_core.access.principal import Principal
from routeiq_core.calls.routed import RoutedModels, routed_prompt
from routeiq_core.calls.settle import account, body_tokens
from routeiq_core.catalog import ModelCatalog
from routeiq_core.context import CallContext
from routeiq_core.gateway import Gateway, estimate_prompt_tokens
from routeiq_core.providers import Operation

logger = logging.getLogger("routeiq.routing.exploration")
Scorer = Callable[[Mapping[str, Any], str, Mapping[str, Any]], Awaitable[float | None]]
"""(request payload, model group, answer JSON) → quality in [0, 1] (None: could not score)."""


class DatasetRow(msgspec.Struct, frozen=True, kw_only=True):
    """One prompt's outcomes, in the shared routing-table format (plus where it came from).

    Attributes:
        id: The call's request id (``-explore`` rows share it).
        prompt: The user text the router saw.
        scores: Router model name → quality in [0, 1] (every candidate on a full row).
        costs: Router model name → what its answer cost (USD).
        router: The routed name.
        chosen: The router model that answered the client.
        propensity: The probability the serving policy chose ``chosen`` (1 for a deterministic router;
            a canary's share for its arm).
        full: True when every candidate was asked (an explored row).
        at: Unix time.
        task: The table's task column (unknown for live traffic).
    """

    id: str
    prompt: str
    scores: dict[str, float]
    costs: dict[str, float]
    router: str
    chosen: str
    propensity: float = 1.0
    full: bool = False
    at: float = 0.0
    task: str = "live"


class RoutingDataset(Protocol):
    """Where collected rows go (JSON lines per routed name; read back by ``routeiq retrain``)."""

    async def append(self, row: DatasetRow) -> None:
        """Keep one row (full rows and off-policy rows apart)."""
        ...

    async def rows(self, router: str, *, full: bool) -> list[DatasetRow]:
        """Every kept row of ``router``: the full ones, or the off-policy ones."""
        ...


class ExplorationConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How much to explore.

    Attributes:
        share: Share of a routed name's calls explored (0 to 1).
        daily_cost_cap: Most a worker spends on exploration calls per UTC day (USD).
        off_policy: Also keep off-policy rows (one scorer call per call that is not explored).
        max_pending: Calls waiting to be explored or scored; beyond, new ones are skipped.
        concurrency: Exploration calls in flight at once.
        timeout_s: Longest one exploration call may take.
    """

    share: float = 0.05
    daily_cost_cap: float = 1.0
    off_policy: bool = True
    max_pending: int = 256
    concurrency: int = 4
    timeout_s: float = 60.0


class Explorer:
    """Explores routed calls in the background (see the module docstring).

    Args:
        gateway: Calls the other candidates (retries, fallbacks and breakers as for any call).
        catalog: Resolves model groups.
        routed: The routed names (their routers' candidates and model maps).
        scorer: Scores an answer.
        dataset: Where rows go.
        config: How much to explore.
        rng: Draws which calls are explored.
        clock: Unix time.
    """

    def __init__(
        self,
        *,
        gateway: Gateway,
        catalog: ModelCatalog,
        routed: RoutedModels,
        scorer: Scorer,
        dataset: RoutingDataset,
        config: ExplorationConfig,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._gateway = gateway
        self._catalog = catalog
        self._routed = routed
        self._scorer = scorer
        self._dataset = dataset
        self._config = config
        self._rng = rng or random.Random()
        self._clock = clock
        self._send, self._receive = anyio.create_memory_object_stream[tuple[CallContext, bytes, bool]](
            config.max_pending
        )
        self._slots = anyio.Semaphore(config.concurrency)  # released by the task it admitted
        self._day = ""
        self.spent_today = 0.0
        """What this worker's exploration calls cost today (UTC)."""
        self.skipped = 0
        """Calls not explored or scored because the queue was full."""

    def observe(self, ctx: CallContext, body: bytes) -> None:
        """A routed call was answered (non-streamed): maybe explore it, else keep an off-policy row."""
        if ctx.routed is None or ctx.request_id is None:
            return
        explore = self._rng.random() < self._config.share and self._within_cap()
        if not explore and not self._config.off_policy:
            return
        try:
            self._send.send_nowait((ctx, body, explore))
        except anyio.WouldBlock:
            self.skipped += 1

    async def run(self) -> None:
        """Explore what :meth:`observe` queued, until cancelled."""
        async with anyio.create_task_group() as group:
            async for ctx, body, explore in self._receive:
                await self._slots.acquire()
                group.start_soon(self._handle, ctx, body, explore)

    async def _handle(self, ctx: CallContext, body: bytes, explore: bool) -> None:
        try:
            row = await self._row(ctx, body, explore)
            if row is not None:
                await self._dataset.append(row)
        except Exception:  # exploring must never take the worker down
            logger.exception("exploring call %s failed", ctx.request_id)
        finally:
            self._slots.release()

    async def _row(self, ctx: CallContext, body: bytes, explore: bool) -> DatasetRow | None:
        choice = ctx.routed
        if choice is None:
            return None
        names = self._router_names(choice.router)
        chosen = names.get(choice.model_group, choice.model_group)
        answers: dict[str, tuple[Mapping[str, Any], float]] = {chosen: (_json(body), ctx.cost)}
        if explore:
            for group, name in names.items():
                if group != choice.model_group and self._within_cap():
                    asked = await self._ask(ctx, group)
                    if asked is not None:
                        answers[name] = asked
        scores: dict[str, float] = {}
        for name, (reply, _) in answers.items():
            score = await self._scorer(ctx.payload, _group_of(names, name), reply)
            if score is not None and math.isfinite(score):
                scores[name] = min(1.0, max(0.0, float(score)))
        if chosen not in scores:
            return None
        full = explore and set(scores) == set(names.values())
        canary = self._routed.canary(choice.router)
        propensity = 1.0 if canary is None else (canary[0] if choice.version == canary[1] else 1 - canary[0])
        return DatasetRow(
            id=ctx.request_id or "",
            prompt=routed_prompt(ctx.payload),
            scores=scores,
            costs={name: cost for name, (_, cost) in answers.items() if name in scores},
            router=choice.router,
            chosen=chosen,
            propensity=propensity,
            full=full,
            at=self._clock(),
        )

    async def _ask(self, ctx: CallContext, group: str) -> tuple[Mapping[str, Any], float] | None:
        """The answer of ``group`` to the call's prompt, and its cost (None when it failed)."""
        payload = {**ctx.payload, "model": group, "stream": False}
        payload.pop("stream_options", None)
        probe = CallContext(
            request_id=f"{ctx.request_id}-explore",
            operation=Operation.CHAT,
            surface="exploration",
            received_at=self._clock(),
            principal=Principal.admin(),
            payload=payload,
            model=group,
            requested_model=group,
            group=self._catalog.get(group),
            estimated_prompt_tokens=estimate_prompt_tokens(Operation.CHAT, payload),
            max_tokens=ctx.max_tokens,
        )
        if probe.group is None:
            return None
        try:
            with anyio.fail_after(self._config.timeout_s):
                reply = await self._gateway.complete(probe)
        except Exception as exc:  # an exploration call that fails is only a missing cell
            logger.info("exploring %s for call %s failed: %s", group, ctx.request_id, exc)
            return None
        probe.route = reply.route
        account(probe, reply.usage, produced=body_tokens(reply.body))
        self.spent_today += probe.cost
        return _json(reply.body), probe.cost

    def _router_names(self, router: str) -> dict[str, str]:
        """Model group → router model name, for every candidate of ``router``."""
        entry = next((n for n in self._routed.names if n.name == router), None)
        loaded = self._routed.registry.snapshot().get(router)
        if entry is None or loaded is None:
            return {}
        return {entry.model_map.get(model, model): model for model in loaded.models}

    def _within_cap(self) -> bool:
        day = datetime.datetime.fromtimestamp(self._clock(), tz=datetime.UTC).strftime("%Y-%m-%d")
        if day != self._day:
            self._day, self.spent_today = day, 0.0
        return self.spent_today < self._config.daily_cost_cap


def _group_of(names: Mapping[str, str], router_model: str) -> str:
    return next((group for group, name in names.items() if name == router_model), router_model)


def _json(body: bytes) -> Mapping[str, Any]:
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return {}
    return decoded if isinstance(decoded, dict) else {}
