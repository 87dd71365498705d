"""Turn the `model_list` and `routing` settings into the core's model catalog, checking references."""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

from routeiq_app.model_routing import router_problems
from routeiq_app.routing_setup import select_strategy
from routeiq_app.settings import Settings
from routeiq_app.settings.model import DeploymentSettings
from routeiq_core.catalog import AdapterKind, Deployment, ModelCatalog, ModelGroup
from routeiq_core.errors import ConfigurationError
from routeiq_core.routing import DeploymentStats, build_strategy

NATIVE_PREFIXES = frozenset({"openai", "mock"})


def build_catalog(settings: Settings, config_file: str | None = None) -> ModelCatalog:
    """Build the catalog; every cross-reference problem is reported at once.

    Raises:
        ConfigurationError: unknown fallback/alias targets, duplicate ids, conflicting prices, ...
    """
    problems: list[str] = []
    where = f"{Path(config_file).name}: " if config_file else ""
    deployments: dict[str, list[Deployment]] = {}
    seen_ids: set[str] = set()
    for index, entry in enumerate(settings.model_list):
        deployment = _deployment(
            entry, index, len(deployments.get(entry.model_name, [])), settings, problems, where
        )
        if deployment.id in seen_ids:
            problems.append(
                f"{where}model_list[{index}].model_info.id: duplicate deployment id {deployment.id!r}"
            )
        seen_ids.add(deployment.id)
        deployments.setdefault(entry.model_name, []).append(deployment)

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
    return ModelCatalog(
        ModelGroup(
            name=name,
            deployments=tuple(ds),
            aliases=tuple(aliases.get(name, ())),
            fallbacks=tuple(fallbacks.get(name, ())),
            context_window_fallbacks=tuple(window.get(name, ())),
        )
        for name, ds in deployments.items()
    )


def _deployment(
    entry: DeploymentSettings, index: int, ordinal: int, settings: Settings, problems: list[str], where: str
) -> Deployment:
    params, info = entry.litellm_params, entry.model_info
    at = f"{where}model_list[{index}]"
    prefix, _, rest = params.model.partition("/")
    adapter: AdapterKind
    if params.adapter != "auto":
        adapter = params.adapter
    else:
        adapter = prefix if prefix in NATIVE_PREFIXES and rest else "litellm"  # type: ignore[assignment]
    upstream = (
        params.model
        if adapter == "litellm"
        else (rest if prefix in NATIVE_PREFIXES and rest else params.model)
    )
    if params.extra and adapter != "litellm":
        for key in params.extra:
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
        input_price_per_mtok=input_price,
        output_price_per_mtok=output_price,
        timeout_s=params.timeout or settings.resilience.default_timeout_s,
        tags=tuple(params.tags),
        max_context_tokens=info.max_input_tokens,
        params={"mock": params.mock, "litellm_extra": dict(params.extra)},
    )


def _price(per_token: float | None, per_mtok: float | None, what: str, problems: list[str]) -> float:
    if per_token is not None and per_mtok is not None:
        problems.append(
            f"{what}: set either litellm_params.*_cost_per_token or model_info.*_price_per_mtok, not both"
        )
    if per_token is not None:
        return per_token * 1e6
    return per_mtok or 0.0


def _fallback_map(
    entries: list[dict[str, list[str]]],
    path: str,
    groups: dict[str, list[Deployment]],
    problems: list[str],
    where: str,
) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for i, entry in enumerate(entries):
        for source, targets in entry.items():
            if source not in groups:
                problems.append(f"{where}{path}[{i}].{source}: unknown model group{_known(groups)}")
            for target in targets:
                if target not in groups:
                    problems.append(
                        f"{where}{path}[{i}].{source}: unknown fallback group {target!r}{_known(groups)}"
                    )
            result.setdefault(source, []).extend(t for t in targets if t != source)
    return result


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
