"""Rollout: registry-backed routed names follow promotions and canaries; the canary judge decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from routeiq_adapters.feedback import InMemoryFeedbackStore
from routeiq_core.calls import RoutedName
from routeiq_core.calls.rollout import CanaryJudge, PromotionWatcher
from routeiq_core.calls.routed import RoutedModels, _bucket
from routeiq_core.feedback import FeedbackRecord
from routeiq_core.routing.learned import RouterRegistry, RoutingModel
from routeiq_core.routing.learned.artifact_registry import ArtifactVersion, Canary, Promotion
from routeiq_core.routing.learned.canary import CanaryVerdict

pytestmark = pytest.mark.anyio


class FakeRegistry:
    """Promotions and canaries set by the test; ``fetch`` answers a path naming the version."""

    def __init__(self) -> None:
        self.current: dict[str, int] = {}
        self.canaries: dict[str, Canary] = {}
        self.down: set[str] = set()
        self.fetched: list[tuple[str, int]] = []
        self.promotions: list[tuple[str, int, str]] = []

    async def promoted(self, name: str) -> Promotion | None:
        if name in self.down:
            raise ConnectionError("registry unreachable")
        version = self.current.get(name)
        return None if version is None else Promotion(name=name, version=version, previous=None, at=0.0)

    async def fetch(self, name: str, version: int, into: Path) -> Path:
        self.fetched.append((name, version))
        return into / name / str(version)

    async def canary(self, name: str) -> Canary | None:
        return self.canaries.get(name)

    async def end_canary(self, name: str, candidate: int) -> bool:
        running = self.canaries.get(name)
        if running is None or running.candidate != candidate:
            return False
        del self.canaries[name]
        return True

    async def promote(self, name: str, version: int, *, by: str, reason: str) -> Promotion:
        self.current[name] = version
        self.promotions.append((name, version, by))
        return Promotion(name=name, version=version, previous=None, at=0.0, by=by, reason=reason)

    async def start_canary(self, canary: Canary) -> None:
        self.canaries[canary.name] = canary

    async def publish(self, *args: Any, **kwargs: Any) -> ArtifactVersion:
        raise NotImplementedError

    async def names(self) -> list[str]:
        return sorted(self.current)

    async def versions(self, name: str) -> list[ArtifactVersion]:
        return []

    async def history(self, name: str) -> list[Promotion]:
        return []


def loader(bad: set[str]) -> Any:
    def load(routed: str, directory: Path) -> RoutingModel:
        if directory.name in bad:
            raise ValueError(f"version {directory.name} is broken")
        return cast(RoutingModel, f"{routed}@{directory.name}")

    return load


def routed_models(*names: str) -> RoutedModels:
    return RoutedModels({n: RoutedName(name=n) for n in names}, RouterRegistry())


async def test_names_follow_their_promotions_and_unchanged_ones_are_not_fetched_again(tmp_path: Path) -> None:
    registry = FakeRegistry()
    routed = routed_models("auto", "fast")
    watcher = PromotionWatcher(registry, {"auto": "math", "fast": "chat"}, routed, loader(set()), tmp_path)
    assert await watcher.sync() == {}
    assert routed.registry.names() == ()
    registry.current = {"math": 1, "chat": 3}
    assert await watcher.sync() == {"auto": 1, "fast": 3}
    assert routed.registry.get("auto") == "auto@1"
    assert await watcher.sync() == {}
    assert len(registry.fetched) == 2
    registry.current["math"] = 2
    assert await watcher.sync() == {"auto": 2}
    assert (routed.registry.get("auto"), watcher.serving, watcher.last_error) == (
        "auto@2",
        {"auto": 2, "fast": 3},
        None,
    )


async def test_a_broken_version_or_an_outage_keeps_the_serving_router_and_spares_the_others(
    tmp_path: Path,
) -> None:
    registry = FakeRegistry()
    registry.current = {"math": 1, "chat": 1}
    routed = routed_models("auto", "fast")
    watcher = PromotionWatcher(registry, {"auto": "math", "fast": "chat"}, routed, loader({"2"}), tmp_path)
    await watcher.sync()
    registry.current = {"math": 2, "chat": 5}
    assert await watcher.sync() == {"fast": 5}
    assert routed.registry.get("auto") == "auto@1"
    assert "version 2 is broken" in (watcher.last_error or "")
    fetched = len(registry.fetched)
    assert await watcher.sync() == {}  # a refused version is not fetched and loaded again
    assert len(registry.fetched) == fetched
    assert "version 2 is broken" in (watcher.last_error or "")
    registry.down = {"math"}
    registry.current["chat"] = 6
    assert await watcher.sync() == {"fast": 6}
    assert "unreachable" in (watcher.last_error or "")
    registry.down = set()
    registry.current["math"] = 3
    assert await watcher.sync() == {"auto": 3}
    assert watcher.last_error is None


async def test_a_canary_loads_beside_the_serving_version_and_unloads_when_it_ends(tmp_path: Path) -> None:
    registry = FakeRegistry()
    registry.current = {"math": 1}
    routed = routed_models("auto")
    watcher = PromotionWatcher(registry, {"auto": "math"}, routed, loader(set()), tmp_path)
    await watcher.sync()
    registry.canaries["math"] = Canary(name="math", candidate=2, incumbent=1, share=0.5, started_at=0.0)
    await watcher.sync()
    assert routed.canary("auto") == (0.5, 2)
    assert routed.registry.get("auto#canary") == "auto@2"
    del registry.canaries["math"]
    await watcher.sync()
    assert routed.canary("auto") is None
    assert routed.registry.names() == ("auto",)


def scored(
    version: int, score: float, n: int, *, cost: float = 0.001, start: float = 10.0
) -> list[FeedbackRecord]:
    return [
        FeedbackRecord(
            at=start + i * 0.001 + version,
            source="client",
            request_id=f"v{version}-{i}",
            score=score,
            router="auto",
            router_version=version,
            cost=cost,
        )
        for i in range(n)
    ]


async def judge_with(
    records: list[FeedbackRecord], **canary: Any
) -> tuple[FakeRegistry, dict[str, CanaryVerdict], list[str]]:
    registry = FakeRegistry()
    registry.current = {"math": 1}
    registry.canaries["math"] = Canary(
        name="math", candidate=2, incumbent=1, share=0.5, started_at=5.0, min_samples=20, **canary
    )
    store = InMemoryFeedbackStore()
    for record in records:
        await store.add(record)
    decided: list[str] = []

    async def on_decision(trial: Canary, found: CanaryVerdict) -> None:
        decided.append(found.decision)

    verdicts = await CanaryJudge(registry, {"auto": "math"}, store, on_decision).check()
    return registry, verdicts, decided


async def test_a_better_candidate_is_promoted_once() -> None:
    registry, verdicts, decided = await judge_with([*scored(2, 1.0, 150), *scored(1, 0.4, 150)])
    assert verdicts["auto"].decision == "promote"
    assert decided == ["promote"]
    assert registry.promotions == [("math", 2, "canary")]
    assert registry.canaries == {}


async def test_a_worse_or_dearer_candidate_is_rolled_back_and_too_few_calls_wait() -> None:
    registry, verdicts, decided = await judge_with([*scored(2, 0.2, 150), *scored(1, 0.9, 150)])
    assert (verdicts["auto"].decision, decided, registry.promotions) == ("rollback", ["rollback"], [])
    _, verdicts, _ = await judge_with([*scored(2, 1.0, 150, cost=0.01), *scored(1, 1.0, 150, cost=0.001)])
    assert verdicts["auto"].decision == "rollback"
    assert "tolerance" in verdicts["auto"].reason
    _, verdicts, decided = await judge_with([*scored(2, 1.0, 10), *scored(1, 0.0, 10)])
    assert (verdicts["auto"].decision, decided) == ("continue", [])


async def test_old_feedback_other_versions_and_duplicate_scores_do_not_count() -> None:
    old = scored(2, 0.0, 100, start=0.0)  # before the canary started
    other = [
        FeedbackRecord(
            at=20.0 + i, source="client", request_id=f"x{i}", score=0.0, router="auto", router_version=7
        )
        for i in range(50)
    ]
    evaluator = [
        FeedbackRecord(
            at=30.0, source="evaluator", request_id="v2-0", score=0.0, router="auto", router_version=2
        )
    ]
    _, verdicts, _ = await judge_with([*old, *other, *evaluator, *scored(2, 1.0, 30), *scored(1, 1.0, 25)])
    found = verdicts["auto"]
    assert (found.candidate.n, found.incumbent.n) == (30, 25)
    assert found.candidate.quality == 1.0  # the client's score of v2-0 wins over the evaluator's


def test_the_arm_of_a_call_is_stable_and_follows_the_share() -> None:
    routed = routed_models("auto")
    routed.registry.swap("auto", cast(RoutingModel, "incumbent"))
    routed.start_canary("auto", cast(RoutingModel, "candidate"), 2, 0.25)
    shares = sum(_bucket(f"request-{i}") < 0.25 for i in range(4_000)) / 4_000
    assert 0.22 < shares < 0.28
    assert _bucket("request-7") == _bucket("request-7")
