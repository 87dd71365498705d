"""Model groups and their deployments: what the gateway can route to.

A group whose name holds a ``*`` (LiteLLM's wildcard model groups: ``openai/*``, ``*``) also serves
every name the pattern matches: asked for ``openai/gpt-4o``, the catalog hands out a copy of the
``openai/*`` group named ``openai/gpt-4o`` whose deployments have the matched part substituted for
the ``*`` of their upstream model, under the same deployment ids.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Literal

import msgspec
from cachetools import LRUCache

from routeiq_core.errors import NotFoundError
from routeiq_core.media_prices import MediaPrices, MediaUnits
from routeiq_core.native import NativeProtocol
from routeiq_core.operations import Operation

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
    such as LiteLLM's) or ``none`` (nothing priced it, so it costs 0). ``price_model`` is the name a
    price map knows the upstream model by (``litellm_params.model`` or ``model_info.base_model``;
    None: never priced from a map). ``wildcard`` is set on the deployments of a wildcard group the
    catalog hands out when their upstream model name came from the request (so an upstream 404 is
    the client's unknown model, not a misconfigured deployment). ``attributes`` are the upstream's
    telemetry attributes (``gen_ai.provider.name``, ``server.address``, ``server.port``), set by the
    app, which knows the adapters. ``operations`` are the operations it serves (from its configured
    ``mode``); None: whatever its adapter can do. ``native`` are the client protocols its upstream
    also speaks as they are (:mod:`routeiq_core.native`): calls in them are forwarded, not translated.
    ``media`` prices images, speech and transcription by their units (None: tokens only).
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
    price_model: str | None = None
    wildcard: bool = False
    attributes: Mapping[str, str] = msgspec.field(default_factory=dict)
    operations: frozenset[Operation] | None = None
    native: frozenset[NativeProtocol] = frozenset()
    media: MediaPrices | None = None

    def __repr__(self) -> str:
        """Never show the API key."""
        return f"Deployment(id={self.id!r}, group={self.model_group!r}, adapter={self.adapter!r})"

    def serves(self, operation: Operation) -> bool:
        """Whether this deployment is configured to serve ``operation``."""
        return self.operations is None or operation in self.operations

    def cost(self, prompt_tokens: int, completion_tokens: int, units: MediaUnits | None = None) -> float:
        """Spend in the price unit for this many tokens, and the ``units`` of media besides them."""
        tokens = token_cost(
            self.input_price_per_mtok, self.output_price_per_mtok, prompt_tokens, completion_tokens
        )
        media = self.media
        return tokens if units is None or media is None else tokens + media.cost(units)


class ModelGroup(msgspec.Struct, frozen=True, kw_only=True):
    """A public model name clients ask for, served by one or more deployments.

    ``pattern`` is set on the groups a wildcard group serves: its configured name (``openai/*``),
    by which quotas and metrics count the whole wildcard group; None for every other group.
    """

    name: str
    deployments: tuple[Deployment, ...]
    aliases: tuple[str, ...] = ()
    fallbacks: tuple[str, ...] = ()
    context_window_fallbacks: tuple[str, ...] = ()
    pattern: str | None = None

    @property
    def max_context_tokens(self) -> int | None:
        """The largest context any deployment takes (None: unknown, assume it fits)."""
        limits = [d.max_context_tokens for d in self.deployments]
        return None if any(x is None for x in limits) else max(x for x in limits if x is not None)


class ModelFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a model price map knows about one model: prices per million tokens, context window."""

    input_per_mtok: float
    output_per_mtok: float
    max_input_tokens: int | None = None


ModelFactsLookup = Callable[[str], ModelFacts | None]
"""The port a catalog prices wildcard-served models with: a model name to what is known of it."""


def matches(pattern: str, name: str) -> bool:
    """Whether ``name`` is ``pattern``, or matches it where each ``*`` stands for one or more characters.

    The one matching rule of model names: wildcard groups, and the allowed models of keys and teams
    (``openai/*`` matches ``openai/gpt-4o``, ``*`` matches every name).
    """
    if "*" not in pattern:
        return pattern == name
    first, *middle, last = pattern.split("*")
    if not name.startswith(first):
        return False
    position = len(first)
    for part in middle:
        found = name.find(part, position + 1)  # the ``*`` before it takes at least one character
        if found < 0:
            return False
        position = found + len(part)
    return len(name) - len(last) > position and name.endswith(last)


def _captured(pattern: str, name: str) -> str:
    """The part of ``name`` the single ``*`` of ``pattern`` matched (``name`` must match it)."""
    prefix, _, suffix = pattern.partition("*")
    return name[len(prefix) : len(name) - len(suffix)]


class ModelCatalog:
    """Immutable lookup of model groups by name, alias or wildcard pattern.

    Args:
        groups: The configured groups; a group whose name holds one ``*`` is also a pattern.
        facts: Looked up with the upstream model of a wildcard-served deployment (its
            ``price_model`` with the ``*`` substituted) to price it when the wildcard deployment
            has no prices, and to give it a context window when it has none.
        cache_size: How many wildcard-served groups are kept built (least recently used go first).
    """

    def __init__(
        self, groups: Iterable[ModelGroup], *, facts: ModelFactsLookup | None = None, cache_size: int = 1024
    ) -> None:
        by_name: dict[str, ModelGroup] = {}
        ordered = tuple(groups)
        for group in ordered:
            if group.name.count("*") > 1:
                raise ValueError(f"model group {group.name!r} has more than one '*'")
            served = self._specialize(group, group.name, None) if "*" in group.name else group
            for key in (group.name, *group.aliases):
                if key in by_name:
                    raise ValueError(f"model name {key!r} is used by two model groups")
                by_name[key] = served
        self._by_name = MappingProxyType(by_name)
        self._groups = ordered
        self._deployments = MappingProxyType({d.id: d for g in ordered for d in g.deployments})
        # Most specific first: the longest literal text; ``*`` alone last; ties keep configuration order.
        self._patterns = tuple(
            sorted((g for g in ordered if "*" in g.name), key=lambda g: len(g.name) - 1, reverse=True)
        )
        self._facts = facts
        self._served: LRUCache[str, ModelGroup] = LRUCache(maxsize=cache_size)
        self._lock = threading.Lock()

    @property
    def groups(self) -> tuple[ModelGroup, ...]:
        """Every configured group, in configuration order."""
        return self._groups

    def names(self) -> list[str]:
        """Public group names as configured (aliases excluded, patterns such as ``openai/*`` included)."""
        return [g.name for g in self._groups]

    def get(self, name: str) -> ModelGroup | None:
        """The group called ``name`` (or aliased so), else the most specific wildcard group's, if any."""
        group = self._by_name.get(name)
        if group is not None or not self._patterns:
            return group
        with self._lock:
            group = self._served.get(name)
        if group is not None:
            return group
        pattern = next((g for g in self._patterns if matches(g.name, name)), None)
        if pattern is None:
            return None
        group = self._specialize(pattern, name, _captured(pattern.name, name))
        with self._lock:
            self._served[name] = group
        return group

    def resolve(self, name: str) -> ModelGroup:
        """The group serving ``name``; a 404 listing the available groups otherwise."""
        group = self.get(name)
        if group is None:
            available = ", ".join(self.names()) or "none configured"
            raise NotFoundError(
                f"The model {name!r} does not exist. Available models: {available}.",
                param="model",
                code="model_not_found",
            )
        return group

    def deployment(self, deployment_id: str) -> Deployment | None:
        """Find a configured deployment by id."""
        return self._deployments.get(deployment_id)

    def _specialize(self, group: ModelGroup, name: str, captured: str | None) -> ModelGroup:
        """The wildcard ``group`` serving ``name`` (``captured``: what its ``*`` matched, if it did)."""
        return ModelGroup(
            name=name,
            deployments=tuple(self._served_by(d, captured) for d in group.deployments),
            aliases=group.aliases if name == group.name else (),
            fallbacks=group.fallbacks,
            context_window_fallbacks=group.context_window_fallbacks,
            pattern=group.name,
        )

    def _served_by(self, d: Deployment, captured: str | None) -> Deployment:
        """``d`` with ``captured`` substituted into its upstream model, priced from the facts if unpriced."""
        if "*" not in d.upstream_model:
            return d
        changes: dict[str, Any] = {"wildcard": True}
        if captured is None:
            return msgspec.structs.replace(d, **changes)
        changes["upstream_model"] = d.upstream_model.replace("*", captured)
        needs_facts = d.price_source == "none" or d.max_context_tokens is None
        if self._facts is not None and d.price_model is not None and needs_facts:
            found = self._facts(d.price_model.replace("*", captured))
            if found is not None and d.price_source == "none":
                changes.update(
                    input_price_per_mtok=found.input_per_mtok,
                    output_price_per_mtok=found.output_per_mtok,
                    price_source="price_map",
                )
            if found is not None and d.max_context_tokens is None:
                changes["max_context_tokens"] = found.max_input_tokens
        return msgspec.structs.replace(d, **changes)
