"""Routing settings: deployment strategy, experiments, bandits, affinity, routed model names."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from routeiq_app.settings.base import NonNegativeFloat, PositiveFloat, _Section
from routeiq_app.settings.exploration import ExplorationSettings
from routeiq_app.settings.registry import RouterRegistrySettings


class ModelRouterSettings(_Section, frozen=True):
    """A routed model name: a trained router picks one of its candidate model groups per request."""

    name: Annotated[str, Meta(description="The model name clients ask for, e.g. `auto`.")]
    artifact: Annotated[
        str, Meta(description="Directory of a router saved by `routeiq train` (or set `registry_name`).")
    ] = ""
    registry_name: Annotated[
        str | None,
        Meta(
            description="Serve the promoted version of this name in `routing.registry` instead of "
            "`artifact`; a new promotion is hot-swapped within `routing.registry.poll_interval_s`."
        ),
    ] = None
    cost_weight: Annotated[
        NonNegativeFloat,
        Meta(
            description="Default lambda in argmax(quality - lambda * cost); a request may override it with "
            "the `x-routeiq-cost-weight` header or `routeiq: {cost_weight: x}` in its body."
        ),
    ] = 0.0
    model_map: Annotated[
        dict[str, str],
        Meta(description="Router model name -> model group (default: the same name)."),
    ] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        if bool(self.artifact) == (self.registry_name is not None):
            raise ValueError(f"router {self.name!r}: set exactly one of artifact and registry_name")


class ArmSettings(_Section, frozen=True):
    """One arm of an A/B experiment."""

    name: Annotated[str, Meta(description="The arm's name (in stats and logs).")]
    strategy: Annotated[str, Meta(description="The deployment strategy of this arm.")]
    weight: Annotated[PositiveFloat, Meta(description="Share of the keys assigned to this arm.")] = 1.0


class ExperimentSettings(_Section, frozen=True):
    """An A/B experiment over deployment strategies (disabled while it has no arms)."""

    name: Annotated[str, Meta(description="The experiment's name (part of the assignment hash).")] = (
        "experiment"
    )
    key: Annotated[
        Literal["key", "user", "conversation"],
        Meta(
            description="What keeps a caller on one arm: the API key, the body's `user`, or the conversation."
        ),
    ] = "key"
    arms: Annotated[list[ArmSettings], Meta(description="The arms; at least two to experiment.")] = (
        msgspec.field(default_factory=list)
    )


class BanditSettings(_Section, frozen=True):
    """A bandit choosing among deployment strategies by their outcomes (disabled while empty)."""

    strategies: Annotated[list[str], Meta(description="The strategies to choose from.")] = msgspec.field(
        default_factory=list
    )
    policy: Annotated[
        Literal["thompson", "epsilon-greedy"], Meta(description="Thompson sampling or epsilon-greedy.")
    ] = "thompson"
    epsilon: Annotated[NonNegativeFloat, Meta(description="Exploration rate of epsilon-greedy.")] = 0.1
    latency_target_s: Annotated[
        PositiveFloat | None, Meta(description="Successes slower than this earn less reward.")
    ] = None
    quality_weight: Annotated[
        NonNegativeFloat,
        Meta(
            description="Weight of the evaluator plugin's quality score (0-1) in the reward, against one "
            "outcome; 0 ignores scores. Needs `evaluator` in `plugins.enabled`."
        ),
    ] = 0.0


class RoutingSettings(_Section, frozen=True):
    """How requests are routed among model groups and deployments."""

    strategy: Annotated[
        str,
        Meta(
            description="Deployment strategy inside a model group: simple-shuffle, round-robin, least-busy, "
            "latency-based, cost-based, usage-based, a dotted path `package.module:Class` or a "
            "`routeiq.strategies` entry point."
        ),
    ] = "simple-shuffle"
    tag_filtering: Annotated[
        bool,
        Meta(
            description="Only deployments carrying every tag of the request's `x-routeiq-tags` header "
            "serve it (the strategy orders those)."
        ),
    ] = False
    model_group_alias: Annotated[
        dict[str, str], Meta(description="Extra public names: `{alias: model_group}`.")
    ] = msgspec.field(default_factory=dict)
    fallbacks: Annotated[
        list[dict[str, list[str]]],
        Meta(description="Ordered fallback groups when a group fails: `[{group: [fallback, ...]}]`."),
    ] = msgspec.field(default_factory=list)
    context_window_fallbacks: Annotated[
        list[dict[str, list[str]]],
        Meta(description="Groups to use when the prompt is longer than a group's context window."),
    ] = msgspec.field(default_factory=list)
    seed: Annotated[
        int | None, Meta(description="Seed of the routing random generator (tests, replays).")
    ] = None
    experiment: Annotated[
        ExperimentSettings, Meta(description="A/B experiment over strategies (replaces `strategy`).")
    ] = msgspec.field(default_factory=ExperimentSettings)
    bandit: Annotated[BanditSettings, Meta(description="Bandit over strategies (replaces `strategy`).")] = (
        msgspec.field(default_factory=BanditSettings)
    )
    affinity: Annotated[
        bool,
        Meta(
            description="Keep a conversation (`x-routeiq-conversation-id` header or `previous_response_id`) "
            "on the deployment that served it, while that deployment is available."
        ),
    ] = False
    affinity_ttl_s: Annotated[
        PositiveFloat, Meta(description="How long a conversation stays pinned after its last request.")
    ] = 3600.0
    routers: Annotated[
        list[ModelRouterSettings], Meta(description="Routed model names served by trained routers.")
    ] = msgspec.field(default_factory=list)
    registry: Annotated[
        RouterRegistrySettings, Meta(description="The router-artifact registry (versions, promotion).")
    ] = msgspec.field(default_factory=RouterRegistrySettings)
    exploration: Annotated[
        ExplorationSettings, Meta(description="Collect full-information routing data from live calls.")
    ] = msgspec.field(default_factory=ExplorationSettings)
    price_map: Annotated[
        str,
        Meta(
            description="Prices and context windows of deployments that configure none: `litellm` "
            "(LiteLLM's bundled model price map, when litellm is installed), `none`, or the path of a "
            "JSON file in LiteLLM's `model_prices_and_context_window` format. Configured prices always "
            "win; `mock/` deployments are never priced from the map."
        ),
    ] = "litellm"
