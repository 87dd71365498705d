"""Routed model names (``model: "auto"``): a trained router picks the model group of each call."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

from routeiq_core.context import CallContext, RoutedChoice
from routeiq_core.errors import InvalidRequestError
from routeiq_core.guardrails.chat_text import request_texts
from routeiq_core.routing.learned.pipeline import RoutingModel
from routeiq_core.routing.learned.registry import RouterRegistry

BODY_EXTENSION = "routeiq"
"""The body key of RouteIQ's own options (``{"routeiq": {"cost_weight": 0.5}}``); never sent upstream."""


class RoutedName(msgspec.Struct, frozen=True, kw_only=True):
    """One routed name: the router's model names mapped to model groups, and its default cost weight."""

    name: str
    model_map: Mapping[str, str] = msgspec.field(default_factory=dict)
    cost_weight: float = 0.0


class RoutedModels:
    """The routed names of this process and the loaded router of each (hot-swappable in ``registry``).

    Args:
        names: Each routed name's settings.
        registry: The serving router of each name.
    """

    def __init__(self, names: Mapping[str, RoutedName], registry: RouterRegistry[RoutingModel]) -> None:
        self._names = dict(names)
        self.registry = registry

    def is_routed(self, model: str) -> bool:
        """Whether ``model`` is a routed name."""
        return model in self._names

    async def choose(self, ctx: CallContext, cost_weight: float | None) -> None:
        """Let the router pick the call's model group (inference runs off the event loop).

        Sets ``ctx.model`` to the chosen group and ``ctx.routed`` to the choice and its reason.
        """
        entry = self._names[ctx.model]
        weight = entry.cost_weight if cost_weight is None else cost_weight
        model = self.registry.get(entry.name)
        payload = ctx.payload
        prompt = "\n".join(request_texts(payload, roles=("user",))) or "\n".join(request_texts(payload))
        decision = (await model.aroute([prompt], cost_weight=weight))[0]
        group = entry.model_map.get(decision.model, decision.model)
        best = max(decision.predicted_quality)
        reason = (
            f"predicted quality {decision.predicted_quality[decision.index]:.3f} (best {best:.3f}), "
            f"estimated cost {decision.estimated_cost[decision.index]:.6f}, cost weight {weight:g}"
        )
        ctx.routed = RoutedChoice(router=entry.name, model_group=group, reason=reason)
        ctx.model = group


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
