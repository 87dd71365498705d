"""``/admin/routing/explain``: what a routed model's trained router picks for a prompt, and why.

The same decision a call to the routed name makes (:meth:`RoutedModels.explain`, also behind
``routeiq route``'s per-model table): the chosen model group, every candidate's predicted quality
and estimated cost, the reason the request log records. Nothing is sent to a model.
"""

from __future__ import annotations

import math

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency

from routeiq_app.json_body import decode_json_object
from routeiq_app.model_routing import ModelRouting
from routeiq_core.access import Principal, require
from routeiq_core.errors import InvalidRequestError

MAX_PROMPT_CHARS = 100_000
"""The longest prompt a dry run embeds (a call's own limit is its body size)."""


class RoutingExplainRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A routed name, a prompt, and optionally the cost weight to use instead of the configured one."""

    model: str
    prompt: str
    cost_weight: float | None = None


class CandidateView(msgspec.Struct, kw_only=True):
    """One model the router weighed."""

    model: str
    model_group: str
    predicted_quality: float
    estimated_cost: float
    chosen: bool


class RoutingExplanation(msgspec.Struct, kw_only=True):
    """The router's choice for the prompt."""

    router: str
    model: str
    model_group: str
    cost_weight: float
    reason: str
    candidates: list[CandidateView]


def _request(body: dict[str, object]) -> RoutingExplainRequest:
    try:
        ask = msgspec.convert(body, RoutingExplainRequest)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"Invalid routing explain request: {exc}") from None
    if not ask.prompt.strip() or len(ask.prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequestError(
            f"prompt must be 1 to {MAX_PROMPT_CHARS} characters, got {len(ask.prompt)}.", param="prompt"
        )
    if ask.cost_weight is not None and not (math.isfinite(ask.cost_weight) and ask.cost_weight >= 0):
        raise InvalidRequestError("cost_weight must be a number >= 0.", param="cost_weight")
    return ask


@post(
    "/admin/routing/explain",
    summary="Dry-run a routed model's router on a prompt",
    tags=["admin"],
    status_code=200,
)
async def explain_routing(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    model_routing: NamedDependency[ModelRouting],
) -> RoutingExplanation:
    """E.g. ``{"model": "auto", "prompt": "integrate x^2"}`` (``policy.explain``); 400 if not routed."""
    require(principal, "policy.explain")
    ask = _request(decode_json_object(await request.body()))
    explained = await model_routing.routed.explain(ask.model, ask.prompt, ask.cost_weight)
    decision = explained.decision
    return RoutingExplanation(
        router=explained.router,
        model=decision.model,
        model_group=explained.model_group,
        cost_weight=decision.cost_weight,
        reason=explained.reason,
        candidates=[
            CandidateView(
                model=name,
                model_group=group,
                predicted_quality=quality,
                estimated_cost=cost,
                chosen=index == decision.index,
            )
            for index, (name, group, quality, cost) in enumerate(
                zip(
                    decision.models,
                    explained.model_groups,
                    decision.predicted_quality,
                    decision.estimated_cost,
                    strict=True,
                )
            )
        ],
    )


routing_routes = (explain_routing,)
