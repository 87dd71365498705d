"""Routed model names (``model: "auto"``): a trained router picks the model group of each call."""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any

import msgspec

from routeiq_core.context import CallContext, RoutedChoice
from routeiq_core.errors import InvalidRequestError, ServiceUnavailableError
from routeiq_core.guardrails.chat_text import request_texts
from routeiq_core.routing.learned.pipeline import RouteDecision, RoutingModel
from routeiq_core.routing.learned.registry import RouterRegistry

CANARY_SUFFIX = "#canary"
"""The key of a canary's candidate router in the registry of loaded routers (``auto#canary``)."""
BODY_EXTENSION = "routeiq"
"""The body key of RouteIQ's own options (``{"routeiq": {"cost_weight": 0.5}}``); never sent upstream."""


class RoutedName(msgspec.Struct, frozen=True, kw_only=True):
    """One routed name: the router's model names mapped to model groups, and its default cost weight."""

    name: str
    model_map: Mapping[str, str] = msgspec.field(default_factory=dict)
    cost_weight: float = 0.0


class RoutedExplanation(msgspec.Struct, frozen=True, kw_only=True):
    """A router's choice for one prompt: the group it maps to, why, and every candidate's scores.

    Attributes:
        router: The routed name.
        model_group: The chosen model group.
        reason: The reason a call records (``route_reason``).
        version: The registry version of the router that chose (a canary's candidate, or the
            promoted one); None for a router loaded from a directory.
        decision: The router's decision (candidates, predicted quality, estimated cost).
        model_groups: The model group of each candidate, in ``decision.models`` order.
    """

    router: str
    model_group: str
    reason: str
    decision: RouteDecision
    model_groups: tuple[str, ...]
    version: int | None = None


class RoutedModels:
    """The routed names of this process and the loaded router of each (hot-swappable in ``registry``).

    Args:
        names: Each routed name's settings.
        registry: The serving router of each name.
    """

    def __init__(self, names: Mapping[str, RoutedName], registry: RouterRegistry[RoutingModel]) -> None:
        self._names = dict(names)
        self.registry = registry
        self._versions: dict[str, int] = {}
        self._canaries: dict[str, tuple[float, int]] = {}

    def serve_version(self, name: str, router: RoutingModel, version: int) -> None:
        """Serve ``router``, registry version ``version``, for ``name`` from now on (atomic swap)."""
        self.registry.swap(name, router)
        self._versions[name] = version

    def start_canary(self, name: str, router: RoutingModel, version: int, share: float) -> None:
        """Let ``router`` (the candidate ``version``) answer a ``share`` of the calls to ``name``."""
        self.registry.swap(name + CANARY_SUFFIX, router)
        self._canaries[name] = (share, version)

    def stop_canary(self, name: str) -> None:
        """Every call to ``name`` goes to the serving router again."""
        if self._canaries.pop(name, None) is not None:
            self.registry.remove(name + CANARY_SUFFIX)

    def canary(self, name: str) -> tuple[float, int] | None:
        """The running canary of ``name``: its share and candidate version (None: none)."""
        return self._canaries.get(name)

    def is_routed(self, model: str) -> bool:
        """Whether ``model`` is a routed name."""
        return model in self._names

    @property
    def names(self) -> list[RoutedName]:
        """Every routed name's settings, in config order."""
        return list(self._names.values())

    async def explain(
        self, name: str, prompt: str, cost_weight: float | None = None, arm_key: str | None = None
    ) -> RoutedExplanation:
        """What the router of ``name`` picks for ``prompt``, with every candidate's scores and the reason.

        The one decision both a call (:meth:`choose`) and a dry run (the admin API) use. During a
        canary, ``arm_key`` (a call's request id) picks the arm: a stable hash below the canary's
        share goes to the candidate; without one, the serving router answers.

        Raises:
            InvalidRequestError: 400 when ``name`` is not a routed name.
        """
        entry = self._names.get(name)
        if entry is None:
            known = ", ".join(self._names) or "none"
            raise InvalidRequestError(f"{name!r} is not a routed model; routed: {known}.", param="model")
        weight = entry.cost_weight if cost_weight is None else cost_weight
        routers = self.registry.snapshot()
        version = self._versions.get(entry.name)
        canary = self._canaries.get(entry.name)
        router = routers.get(entry.name)
        if canary is not None and arm_key is not None and _bucket(arm_key) < canary[0]:
            router, version = routers.get(entry.name + CANARY_SUFFIX, router), canary[1]
        if router is None:  # a registry-backed name before its promoted version could be loaded
            raise ServiceUnavailableError(
                f"The router of {name!r} is not loaded yet (nothing promoted, or the registry is "
                "unreachable); try again shortly.",
                code="router_not_loaded",
            )
        decision = (await router.aroute([prompt], cost_weight=weight))[0]
        best = max(decision.predicted_quality)
        reason = (
            f"predicted quality {decision.predicted_quality[decision.index]:.3f} (best {best:.3f}), "
            f"estimated cost {decision.estimated_cost[decision.index]:.6f}, cost weight {weight:g}"
        )
        return RoutedExplanation(
            router=entry.name,
            model_group=entry.model_map.get(decision.model, decision.model),
            reason=reason,
            decision=decision,
            model_groups=tuple(entry.model_map.get(m, m) for m in decision.models),
            version=version,
        )

    async def choose(self, ctx: CallContext, cost_weight: float | None) -> None:
        """Let the router pick the call's model group (inference runs off the event loop).

        Sets ``ctx.model`` to the chosen group and ``ctx.routed`` to the choice and its reason.
        """
        prompt = routed_prompt(ctx.payload)
        explained = await self.explain(ctx.model, prompt, cost_weight, arm_key=ctx.request_id)
        ctx.routed = RoutedChoice(
            router=explained.router,
            model_group=explained.model_group,
            reason=explained.reason,
            version=explained.version,
        )
        ctx.model = explained.model_group


def routed_prompt(payload: Mapping[str, Any]) -> str:
    """The text a router sees of a request: its user messages (every message when there are none)."""
    return "\n".join(request_texts(payload, roles=("user",))) or "\n".join(request_texts(payload))


def _bucket(key: str) -> float:
    """A stable number in [0, 1) for ``key`` (the same on every worker)."""
    return zlib.crc32(key.encode()) / 4_294_967_296


def take_cost_weight(payload: dict[str, Any], presented: str | None) -> float | None:
    """The call's cost weight: ``presented`` (a header, say) over the body's ``routeiq.cost_weight``.

    Removes RouteIQ's body extension from ``payload`` (it is never sent upstream).

    Raises:
        InvalidRequestError: 400 when the weight is not a finite number >= 0.
    """
    raw: Any = presented
    extension = payload.pop(BODY_EXTENSION, None)
    if raw is None and isinstance(extension, dict):
        raw = extension.get("cost_weight")
    if raw is None:
        return None
    try:
        weight = float(raw)
    except (TypeError, ValueError):
        weight = math.nan
    if not math.isfinite(weight) or weight < 0:
        raise InvalidRequestError(f"cost_weight must be a number >= 0, got {raw!r}", param="cost_weight")
    return weight
