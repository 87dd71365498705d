"""Model groups and their deployments: what the gateway can route to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Literal

import msgspec

from routeiq_core.errors import NotFoundError

PriceSource = Literal["config", "price_map", "none"]


def token_cost(
    input_per_mtok: float, output_per_mtok: float, prompt_tokens: int, completion_tokens: int
) -> float:
    """The one cost formula: tokens times prices per million tokens, in the price unit (normally USD)."""
    return (prompt_tokens * input_per_mtok + completion_tokens * output_per_mtok) / 1e6


class Price(msgspec.Struct, frozen=True, kw_only=True):
    """Price per million input and output tokens."""

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Spend for this many tokens."""
        return token_cost(self.input_per_mtok, self.output_per_mtok, prompt_tokens, completion_tokens)


class Deployment(msgspec.Struct, frozen=True, kw_only=True):
    """One upstream that can serve a model group: a provider, an endpoint and an upstream model.

    ``adapter`` names the provider adapter that reaches it (the app registers them by name:
    ``openai``, ``litellm``, ``mock``); the core only uses it to find the client. ``price_source``
    tells where the prices came from: ``config``, ``price_map`` (a model price map
    such as LiteLLM's) or ``none`` (nothing priced it, so it costs 0).
    """

    id: str
    model_group: str
    adapter: str
    upstream_model: str
    api_base: str | None = None
    api_key: str | None = None
    weight: float = 1.0
    rpm: int | None = None
    tpm: int | None = None
    input_price_per_mtok: float = 0.0
    output_price_per_mtok: float = 0.0
    price_source: PriceSource = "config"
    timeout_s: float = 60.0
    tags: tuple[str, ...] = ()
    max_context_tokens: int | None = None
    params: Mapping[str, Any] = msgspec.field(default_factory=dict)

    def __repr__(self) -> str:
        """Never show the API key."""
        return f"Deployment(id={self.id!r}, group={self.model_group!r}, adapter={self.adapter!r})"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Spend in the price unit for this many tokens."""
        return token_cost(
            self.input_price_per_mtok, self.output_price_per_mtok, prompt_tokens, completion_tokens
        )


class ModelGroup(msgspec.Struct, frozen=True, kw_only=True):
    """A public model name clients ask for, served by one or more deployments."""

    name: str
    deployments: tuple[Deployment, ...]
    aliases: tuple[str, ...] = ()
    fallbacks: tuple[str, ...] = ()
    context_window_fallbacks: tuple[str, ...] = ()

    @property
    def max_context_tokens(self) -> int | None:
        """The largest context any deployment takes (None: unknown, assume it fits)."""
        limits = [d.max_context_tokens for d in self.deployments]
        return None if any(x is None for x in limits) else max(x for x in limits if x is not None)


class ModelCatalog:
    """Immutable lookup of model groups by name or alias."""

    def __init__(self, groups: Iterable[ModelGroup]) -> None:
        by_name: dict[str, ModelGroup] = {}
        ordered = tuple(groups)
        for group in ordered:
            for key in (group.name, *group.aliases):
                if key in by_name:
                    raise ValueError(f"model name {key!r} is used by two model groups")
                by_name[key] = group
        self._by_name = MappingProxyType(by_name)
        self._groups = ordered
        self._deployments = MappingProxyType({d.id: d for g in ordered for d in g.deployments})

    @property
    def groups(self) -> tuple[ModelGroup, ...]:
        """Every group, in configuration order."""
        return self._groups

    def names(self) -> list[str]:
        """Public group names (aliases excluded)."""
        return [g.name for g in self._groups]

    def get(self, name: str) -> ModelGroup | None:
        """The group called ``name`` (or aliased so), if any."""
        return self._by_name.get(name)

    def resolve(self, name: str) -> ModelGroup:
        """The group called ``name``; a 404 listing the available groups otherwise."""
        group = self._by_name.get(name)
        if group is None:
            available = ", ".join(self.names()) or "none configured"
            raise NotFoundError(
                f"The model {name!r} does not exist. Available models: {available}.",
                param="model",
                code="model_not_found",
            )
        return group

    def deployment(self, deployment_id: str) -> Deployment | None:
        """Find a deployment by id."""
        return self._deployments.get(deployment_id)
