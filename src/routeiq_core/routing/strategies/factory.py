"""Build a deployment strategy from its configured name, built-in or custom.

A custom strategy is named by a dotted path ``package.module:ClassName`` or by the name of an entry
point in the ``routeiq.strategies`` group, so a package can ship strategies that RouteIQ finds
once installed::

    [project.entry-points."routeiq.strategies"]
    cheapest-healthy = "my_package.routing:CheapestHealthy"
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import random
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from routeiq_core.errors import ConfigurationError
from routeiq_core.routing.stats import DeploymentStats
from routeiq_core.routing.strategies.cost_based import CostBased
from routeiq_core.routing.strategies.latency_based import LatencyBased
from routeiq_core.routing.strategies.least_busy import LeastBusy
from routeiq_core.routing.strategies.round_robin import RoundRobin
from routeiq_core.routing.strategies.tag_filter import TagFilter
from routeiq_core.routing.strategies.usage_based import UsageBased
from routeiq_core.routing.strategies.weighted_shuffle import WeightedShuffle
from routeiq_core.routing.strategy import DeploymentStrategy

ENTRY_POINT_GROUP = "routeiq.strategies"

_Builder = Callable[[random.Random, DeploymentStats], DeploymentStrategy]
_BUILTINS: MappingProxyType[str, _Builder] = MappingProxyType(
    {
        WeightedShuffle.name: lambda rng, stats: WeightedShuffle(rng),
        RoundRobin.name: lambda rng, stats: RoundRobin(),
        LeastBusy.name: lambda rng, stats: LeastBusy(stats, rng),
        LatencyBased.name: lambda rng, stats: LatencyBased(stats, rng),
        CostBased.name: lambda rng, stats: CostBased(rng),
        UsageBased.name: lambda rng, stats: UsageBased(stats, rng),
    }
)
STRATEGY_NAMES: tuple[str, ...] = tuple(_BUILTINS)
"""The built-in strategy names, as written in the configuration."""

_INJECTABLE = ("rng", "stats")


def build_strategy(
    name: str, *, rng: random.Random, stats: DeploymentStats, inner_tags: bool = False
) -> DeploymentStrategy:
    """The strategy configured as ``name``.

    Args:
        name: A built-in name (see ``STRATEGY_NAMES``), a dotted path ``package.module:ClassName``
            or a ``routeiq.strategies`` entry point. A custom class is constructed with the
            ``rng`` and/or ``stats`` keyword arguments its constructor declares, and no others.
        rng: The routing random generator (seeded in tests and replays).
        stats: The live deployment statistics the gateway feeds.
        inner_tags: Wrap the strategy in a :class:`TagFilter`, making it the inner strategy that
            orders the deployments carrying the request's tags.

    Raises:
        ConfigurationError: The name is unknown, or the custom strategy cannot be loaded, built or
            does not satisfy the ``DeploymentStrategy`` protocol.
    """
    builder = _BUILTINS.get(name)
    if builder is not None:
        strategy = builder(rng, stats)
    elif ":" in name or _entry_point(name) is not None:
        strategy = _instantiate(load_custom_strategy(name), name, rng, stats)
    else:
        raise ConfigurationError(
            [
                f"routing.strategy: unknown strategy {name!r}; use one of {', '.join(STRATEGY_NAMES)}, "
                f"a dotted path 'package.module:ClassName' or a {ENTRY_POINT_GROUP!r} entry point "
                f"(installed: {', '.join(_entry_point_names()) or 'none'})"
            ]
        )
    return TagFilter(strategy) if inner_tags else strategy


def load_custom_strategy(spec: str) -> type:
    """Load and check a custom strategy class.

    Args:
        spec: ``package.module:ClassName``, or the name of an entry point in the
            ``routeiq.strategies`` group.

    Returns:
        The class; the caller constructs it.

    Raises:
        ConfigurationError: The spec cannot be resolved or imported, does not name a class, or the
            class lacks ``name: str`` or an ``order(group, candidates, context)`` method; every
            problem found is listed.
    """
    loaded = _resolve(spec)
    if not inspect.isclass(loaded):
        raise ConfigurationError(
            [f"strategy {spec!r}: expected a class, got {type(loaded).__name__} {loaded!r}"]
        )
    problems = _protocol_problems(loaded)
    if problems:
        raise ConfigurationError(
            [f"strategy {spec!r} ({loaded.__module__}.{loaded.__qualname__}): {p}" for p in problems]
        )
    return loaded


def _resolve(spec: str) -> Any:
    if ":" not in spec:
        entry = _entry_point(spec)
        if entry is None:
            installed = ", ".join(_entry_point_names()) or "none"
            raise ConfigurationError(
                [
                    f"strategy {spec!r}: no {ENTRY_POINT_GROUP!r} entry point has this name (installed: "
                    f"{installed}); name a class as 'package.module:ClassName' instead"
                ]
            )
        try:
            return entry.load()
        except Exception as exc:
            raise ConfigurationError(
                [f"strategy {spec!r}: loading entry point {entry.value!r} failed: {exc}"]
            ) from exc
    module_name, _, attr_path = spec.partition(":")
    if not module_name or not attr_path:
        raise ConfigurationError([f"strategy {spec!r}: expected 'package.module:ClassName'"])
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError([f"strategy {spec!r}: cannot import module {module_name!r}: {exc}"]) from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigurationError(
                [f"strategy {spec!r}: module {module_name!r} has no attribute {attr_path!r}"]
            ) from None
    return obj


def _entry_point(name: str) -> importlib.metadata.EntryPoint | None:
    matches = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=name)
    return next(iter(matches), None)


def _entry_point_names() -> list[str]:
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)})


def _protocol_problems(cls: type) -> list[str]:
    problems = []
    annotated = any("name" in inspect.get_annotations(base) for base in cls.__mro__)
    if not (isinstance(getattr(cls, "name", None), str) or annotated):
        problems.append("missing 'name: str' (a class attribute, or an annotation set in __init__)")
    raw = inspect.getattr_static(cls, "order", None)
    order = getattr(cls, "order", None)
    if raw is None:
        problems.append("missing method 'order(self, group, candidates, context) -> list[Deployment]'")
        return problems
    if not callable(order):
        problems.append("'order' is not callable")
        return problems
    try:
        signature = inspect.signature(order)
    except (TypeError, ValueError):
        return problems  # a builtin without a signature; trust it
    bound_on_access = isinstance(raw, staticmethod | classmethod)
    args = (None, None, None) if bound_on_access else (None, None, None, None)
    try:
        signature.bind(*args)
    except TypeError:
        problems.append(
            f"'order{signature}' must accept (group, candidates, context) after self and require "
            "no other arguments"
        )
    return problems


def _instantiate(cls: type, spec: str, rng: random.Random, stats: DeploymentStats) -> DeploymentStrategy:
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        parameters = MappingProxyType({})
    available: dict[str, object] = {"rng": rng, "stats": stats}
    kwargs = {key: available[key] for key in _INJECTABLE if key in parameters}
    try:
        strategy = cls(**kwargs)
    except TypeError as exc:
        raise ConfigurationError(
            [
                f"strategy {spec!r}: cannot construct {cls.__qualname__}({', '.join(kwargs)}): {exc}; a "
                "custom strategy's constructor may take only the keyword arguments 'rng' and 'stats'"
            ]
        ) from exc
    if not isinstance(getattr(strategy, "name", None), str):
        raise ConfigurationError([f"strategy {spec!r}: the constructed instance has no 'name' string"])
    built: DeploymentStrategy = strategy
    return built
