"""Turn the `model_list` and `routing` settings into the core's model catalog, checking references."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec

from routeiq_adapters.pricing import LiteLLMPriceMap, open_price_map
from routeiq_app.model_routing import router_problems
from routeiq_app.native_setup import native_protocols
from routeiq_app.provider_objects_setup import deployment_operations
from routeiq_app.routing_setup import select_strategy
from routeiq_app.settings import Settings
from routeiq_app.settings.deployments import DeploymentSettings
from routeiq_app.upstream_attributes import upstream_attributes
from routeiq_core.catalog import (
    Deployment,
    ModelCatalog,
    ModelFacts,
    ModelFactsLookup,
    ModelGroup,
    matches,
)
from routeiq_core.errors import ConfigurationError
from routeiq_core.providers import Operation
from routeiq_core.routing import DeploymentStats, build_strategy

NATIVE_PREFIXES = frozenset({"openai", "mock"})
_TEXT = frozenset({Operation.CHAT, Operation.COMPLETIONS})
MODE_OPERATIONS: Mapping[str, frozenset[Operation]] = MappingProxyType(
    {
        "chat": _TEXT,
        "completion": _TEXT,
        "responses": _TEXT,
        "embedding": frozenset({Operation.EMBEDDINGS}),
        "moderation": frozenset({Operation.MODERATIONS}),
        "image_generation": frozenset({Operation.IMAGES}),
        "image_edit": frozenset({Operation.IMAGE_EDITS}),
        "rerank": frozenset({Operation.RERANK}),
        "audio_speech": frozenset({Operation.AUDIO_SPEECH}),
        "audio_transcription": frozenset({Operation.AUDIO_TRANSCRIPTION}),
    }
)
"""The operations a deployment of each ``model_info.mode`` serves."""
_OPENAI_KEYS = frozenset({"organization", "extra_headers"})  # LiteLLM keys the native OpenAI client honours


def build_catalog(settings: Settings, config_file: str | None = None) -> ModelCatalog:
    """Build the catalog; every cross-reference problem is reported at once.

    Raises:
        ConfigurationError: unknown fallback/alias targets, duplicate ids, conflicting prices, ...
    """
    problems: list[str] = []
    where = f"{Path(config_file).name}: " if config_file else ""
    deployments, price_map = _deployments(settings, problems, where)
    fallbacks = _fallback_map(settings.routing.fallbacks, "routing.fallbacks", deployments, problems, where)
    window = _fallback_map(
        settings.routing.context_window_fallbacks,
        "routing.context_window_fallbacks",
        deployments,
        problems,
        where,
    )
    aliases: dict[str, list[str]] = {}
    for alias, target in settings.routing.model_group_alias.items():
        if target not in deployments:
            problems.append(
                f"{where}routing.model_group_alias.{alias}: unknown model group {target!r}"
                + _known(deployments)
            )
        elif alias in deployments:
            problems.append(
                f"{where}routing.model_group_alias.{alias}: {alias!r} is already a model group name"
            )
        else:
            aliases.setdefault(target, []).append(alias)
    problems += _strategy_problems(settings)
    problems += router_problems(settings, set(deployments), where)
    if problems:
        raise ConfigurationError(problems)
    groups = [
        ModelGroup(
            name=name,
            deployments=tuple(ds),
            aliases=tuple(aliases.get(name, ())),
            fallbacks=tuple(fallbacks.get(name, ())),
            context_window_fallbacks=tuple(window.get(name, ())),
        )
        for name, ds in deployments.items()
    ]
    return ModelCatalog(groups, facts=_facts(price_map) if price_map is not None else None)


def _facts(price_map: LiteLLMPriceMap) -> ModelFactsLookup:
    """The price map as the catalog's port, for the models wildcard groups serve."""

    def facts(model: str) -> ModelFacts | None:
        found = price_map.lookup(model)
        if found is None:
            return None
        return ModelFacts(
            input_per_mtok=found.input_per_mtok,
            output_per_mtok=found.output_per_mtok,
            max_input_tokens=found.max_input_tokens,
        )

    return facts


def _deployments(
    settings: Settings, problems: list[str], where: str
) -> tuple[dict[str, list[Deployment]], LiteLLMPriceMap | None]:
    """Every deployment by model group, unconfigured prices and context windows filled from the map.

    The price map is returned too when wildcard groups need it to price the models they serve.
    """
    deployments: dict[str, list[Deployment]] = {}
    seen_ids: set[str] = set()
    wanting_map: list[tuple[str, int, str]] = []  # (group, position, the model to price)
    wildcards = False  # whether a wildcard deployment needs the map for the models it serves
    for index, entry in enumerate(settings.model_list):
        if entry.model_name.count("*") > 1:
            problems.append(
                f"{where}model_list[{index}].model_name: {entry.model_name!r} has more than one '*' "
                "(a wildcard model group takes one, e.g. 'openai/*')"
            )
        group = deployments.setdefault(entry.model_name, [])
        deployment = _deployment(entry, index, len(group), settings, problems, where)
        if deployment.id in seen_ids:
            problems.append(
                f"{where}model_list[{index}].model_info.id: duplicate deployment id {deployment.id!r}"
            )
        seen_ids.add(deployment.id)
        wants_facts = deployment.price_source == "none" or deployment.max_context_tokens is None
        if wants_facts and deployment.price_model is not None:
            if "*" in deployment.price_model:  # priced model by model, as the catalog serves them
                wildcards = True
            else:
                wanting_map.append((entry.model_name, len(group), deployment.price_model))
        group.append(deployment)
    source = settings.routing.price_map
    # A file is checked even when nothing needs it.
    if not (wanting_map or wildcards or source not in {"litellm", "none"}):
        return deployments, None
    try:
        price_map = open_price_map(source)
    except ConfigurationError as exc:
        problems.extend(f"{where}routing.price_map: {problem}" for problem in exc.problems)
        return deployments, None
    if price_map is not None:
        _fill_from_price_map(deployments, wanting_map, price_map)
    return deployments, price_map


def _fill_from_price_map(
    deployments: dict[str, list[Deployment]],
    wanting: list[tuple[str, int, str]],
    price_map: LiteLLMPriceMap,
) -> None:
    """Price unpriced deployments, and give a context window to those without, from the price map.

    A deployment configuring either price keeps its configured prices (an unconfigured one stays 0:
    the map's price of one direction is never mixed with a configured price of the other).
    """
    for group, position, model in wanting:
        found = price_map.lookup(model)
        if found is None:
            continue
        deployment = deployments[group][position]
        changes: dict[str, Any] = {}
        if deployment.price_source == "none":
            changes.update(
                input_price_per_mtok=found.input_per_mtok,
                output_price_per_mtok=found.output_per_mtok,
                price_source="price_map",
                media=found.media,
            )
        if deployment.max_context_tokens is None and found.max_input_tokens is not None:
            changes["max_context_tokens"] = found.max_input_tokens
        deployments[group][position] = msgspec.structs.replace(deployment, **changes)


def _deployment(
    entry: DeploymentSettings, index: int, ordinal: int, settings: Settings, problems: list[str], where: str
) -> Deployment:
    params, info = entry.litellm_params, entry.model_info
    at = f"{where}model_list[{index}]"
    prefix, _, rest = params.model.partition("/")
    if params.adapter != "auto":
        adapter: str = params.adapter
    else:
        adapter = prefix if prefix in NATIVE_PREFIXES and rest else "litellm"
    upstream = (
        params.model
        if adapter == "litellm"
        else (rest if prefix in NATIVE_PREFIXES and rest else params.model)
    )
    headers = _openai_headers(params.extra, f"{at}.litellm_params", problems) if adapter == "openai" else {}
    honoured = _OPENAI_KEYS if adapter == "openai" else frozenset()
    for key in [] if adapter == "litellm" else [k for k in params.extra if k not in honoured]:
        problems.append(
            f"{at}.litellm_params.{key}: unknown key (provider-specific keys are only passed to LiteLLM "
            f"deployments; this one uses the {adapter!r} adapter)"
        )
    input_price = _price(
        params.input_cost_per_token, info.input_price_per_mtok, f"{at} input price", problems
    )
    output_price = _price(
        params.output_cost_per_token, info.output_price_per_mtok, f"{at} output price", problems
    )
    media = info.media_prices.prices() if info.media_prices is not None else None
    configured = input_price is not None or output_price is not None or media is not None
    return Deployment(
        id=info.id or f"{entry.model_name}-{ordinal}",
        model_group=entry.model_name,
        adapter=adapter,
        upstream_model=upstream,
        api_base=params.api_base,
        api_key=params.api_key,
        weight=params.weight,
        rpm=params.rpm,
        tpm=params.tpm,
        input_price_per_mtok=input_price or 0.0,
        output_price_per_mtok=output_price or 0.0,
        price_source="config" if configured else "none",
        timeout_s=params.timeout or settings.resilience.default_timeout_s,
        tags=tuple(params.tags),
        max_context_tokens=info.max_input_tokens,
        params={"mock": params.mock, "litellm_extra": dict(params.extra), "headers": headers},
        attributes=upstream_attributes(adapter, params.model, params.api_base),
        price_model=None if adapter == "mock" else (info.base_model or params.model),
        operations=deployment_operations(
            info,
            None if info.mode is None else MODE_OPERATIONS[info.mode],
            adapter,
            f"{at}.model_info",
            problems,
        ),
        native=native_protocols(entry, adapter, f"{at}.model_info", problems),
        media=media,
    )


def _openai_headers(extra: dict[str, Any], at: str, problems: list[str]) -> dict[str, str]:
    """The headers an OpenAI-compatible deployment sends: ``organization`` and ``extra_headers``."""
    headers: dict[str, str] = {}
    organization = extra.get("organization")
    if organization is not None:
        if isinstance(organization, str) and organization:
            headers["OpenAI-Organization"] = organization
        else:
            problems.append(f"{at}.organization={organization!r}: expected an organization id")
    configured = extra.get("extra_headers")
    if configured is not None:
        if isinstance(configured, dict) and all(
            isinstance(k, str) and isinstance(v, str) and "\n" not in k + v and "\r" not in k + v
            for k, v in configured.items()
        ):
            headers.update(configured)
        else:
            problems.append(f"{at}.extra_headers: expected a mapping of header names to single-line strings")
    return headers


def _price(per_token: float | None, per_mtok: float | None, what: str, problems: list[str]) -> float | None:
    """The configured price per million tokens (None: not configured)."""
    if per_token is not None and per_mtok is not None:
        problems.append(
            f"{what}: set either litellm_params.*_cost_per_token or model_info.*_price_per_mtok, not both"
        )
    if per_token is not None:
        return per_token * 1e6
    return per_mtok


def _fallback_map(
    entries: list[dict[str, list[str]]],
    path: str,
    groups: dict[str, list[Deployment]],
    problems: list[str],
    where: str,
) -> dict[str, list[str]]:
    """Fallback targets by group; a target may also be a model a wildcard group serves."""
    result: dict[str, list[str]] = {}
    for i, entry in enumerate(entries):
        for source, targets in entry.items():
            if source not in groups:
                problems.append(f"{where}{path}[{i}].{source}: unknown model group{_known(groups)}")
            for target in targets:
                if not _served(target, groups):
                    problems.append(
                        f"{where}{path}[{i}].{source}: unknown fallback group {target!r}{_known(groups)}"
                    )
            result.setdefault(source, []).extend(t for t in targets if t != source)
    return result


def _served(name: str, groups: Mapping[str, object]) -> bool:
    """Whether the catalog will serve ``name``: a group's name, or a name a wildcard group matches."""
    return name in groups or any("*" in group and matches(group, name) for group in groups)


def _strategy_problems(settings: Settings) -> list[str]:
    """Build the configured strategies once (experiment arms and bandit too) to prove they load."""
    rng, stats = random.Random(0), DeploymentStats()
    try:
        select_strategy(build_strategy(settings.routing.strategy, rng=rng, stats=stats), settings, rng, stats)
    except ConfigurationError as exc:
        return list(exc.problems)
    return []


def _known(groups: Iterable[str]) -> str:
    names = ", ".join(groups)
    return f" (model groups: {names})" if names else " (no model groups are configured)"
