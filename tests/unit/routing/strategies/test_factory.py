"""Building strategies from configuration, and loading custom ones."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.errors import ConfigurationError
from routeiq_core.routing import DeploymentStats, DeploymentStrategy, RouteContext
from routeiq_core.routing.strategies import (
    ENTRY_POINT_GROUP,
    STRATEGY_NAMES,
    TagFilter,
    build_strategy,
    load_custom_strategy,
)
from tests.unit.routing.strategies.support import dep, group_of, ids

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"
HERE = "tests.unit.routing.strategies.test_factory"


class NoName:
    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        return list(candidates)


class Empty:
    pass


class NoOrder:
    name = "no-order"


class WrongArity:
    name = "wrong-arity"

    def order(self, group: ModelGroup, candidates: Sequence[Deployment]) -> list[Deployment]:
        return list(candidates)


class NameSetInInit:
    name: str

    def __init__(self, rng: random.Random) -> None:
        self.name = "set-in-init"
        self.rng = rng

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        return list(reversed(candidates))


class NeedsMore:
    name = "needs-more"

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def order(
        self, group: ModelGroup, candidates: Sequence[Deployment], context: RouteContext
    ) -> list[Deployment]:
        return list(candidates)


NOT_A_CLASS = NameSetInInit(random.Random(0))


def _build(name: str, **kw: bool) -> DeploymentStrategy:
    return build_strategy(name, rng=random.Random(0), stats=DeploymentStats(), **kw)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_every_builtin_name_builds_that_strategy(name: str) -> None:
    strategy = build_strategy(name, rng=random.Random(0), stats=DeploymentStats())
    assert strategy.name == name
    ds = [dep(i) for i in range(4)]
    assert sorted(ids(strategy.order(group_of(ds), ds, CallContext()))) == ids(ds)


def test_builtin_names() -> None:
    assert set(STRATEGY_NAMES) == {
        "simple-shuffle",
        "round-robin",
        "least-busy",
        "latency-based",
        "cost-based",
        "usage-based",
    }


def test_inner_tags_wraps_in_a_tag_filter() -> None:
    strategy = build_strategy("round-robin", rng=random.Random(0), stats=DeploymentStats(), inner_tags=True)
    assert isinstance(strategy, TagFilter)
    assert strategy.name == "tag-filter(round-robin)"


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ConfigurationError) as info:
        _build("fastest")
    message = str(info.value)
    assert "'fastest'" in message
    assert all(name in message for name in STRATEGY_NAMES)
    assert "package.module:ClassName" in message


def test_loads_the_example_by_dotted_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    cls = load_custom_strategy("custom_strategy:CheapestHealthy")
    assert cls.__name__ == "CheapestHealthy"
    stats = DeploymentStats()
    for _ in range(5):
        stats.observe("d1", 0.1, ok=False)
    strategy = build_strategy("custom_strategy:CheapestHealthy", rng=random.Random(0), stats=stats)
    assert strategy.name == "cheapest-healthy"
    ds = [
        dep(0, input_price_per_mtok=3.0),
        dep(1, input_price_per_mtok=0.1),
        dep(2, input_price_per_mtok=1.0),
    ]
    assert ids(strategy.order(group_of(ds), ds, CallContext(estimated_prompt_tokens=1000))) == [
        "d2",
        "d0",
        "d1",
    ]


def test_loads_by_entry_point_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "routeiq_test_strategies-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: routeiq-test-strategies\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ncheapest-healthy = custom_strategy:CheapestHealthy\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(EXAMPLES))
    assert load_custom_strategy("cheapest-healthy").__name__ == "CheapestHealthy"
    assert build_strategy("cheapest-healthy", rng=random.Random(0), stats=DeploymentStats()).name == (
        "cheapest-healthy"
    )


def test_constructor_gets_only_the_arguments_it_declares() -> None:
    strategy = _build(f"{HERE}:NameSetInInit")
    assert strategy.name == "set-in-init"
    assert isinstance(strategy, NameSetInInit)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (f"{HERE}:NoName", "missing 'name: str'"),
        (f"{HERE}:NoOrder", "missing method 'order"),
        (f"{HERE}:WrongArity", "must accept (group, candidates, context)"),
        (f"{HERE}:NOT_A_CLASS", "expected a class"),
        (f"{HERE}:Missing", "has no attribute 'Missing'"),
        ("no_such_module_xyz:Thing", "cannot import module 'no_such_module_xyz'"),
        ("no-such-entry-point", "no 'routeiq.strategies' entry point"),
        (":Thing", "expected 'package.module:ClassName'"),
    ],
)
def test_invalid_custom_strategies_say_what_is_wrong(spec: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_custom_strategy(spec)
    assert expected in str(info.value)
    assert spec in str(info.value)


def test_every_missing_part_is_listed_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_custom_strategy(f"{HERE}:Empty")
    assert len(info.value.problems) == 2
    assert "name: str" in info.value.problems[0]
    assert "order" in info.value.problems[1]


def test_a_constructor_needing_other_arguments_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="may take only the keyword arguments 'rng' and 'stats'"):
        _build(f"{HERE}:NeedsMore")
