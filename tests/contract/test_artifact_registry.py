"""The ArtifactRegistry contract, run against every adapter: a directory, and S3 (moto in server mode).

Publishing numbers versions in order and keeps their report and lineage; a fetched copy is verified;
promotion and rollback keep a history; two registries on one store stand for two nodes; tampered or
missing artifacts are refused.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest

from routeiq_adapters.artifacts import FilesystemArtifactRegistry, S3ArtifactRegistry
from routeiq_core.errors import InvalidRequestError, NotFoundError
from routeiq_core.routing.learned import ArtifactError, load_router
from routeiq_core.routing.learned.artifact_registry import (
    ArtifactRegistry,
    Canary,
    DataSource,
    Lineage,
    rollback,
)
from tests.support.routers import train_artifact
from tests.support.s3_server import ACCESS_KEY, SECRET_KEY, make_bucket, moto_server

pytestmark = pytest.mark.anyio
Opener = Callable[[], ArtifactRegistry]
LINEAGE = Lineage(
    data=(DataSource(path="/data/t.jsonl", sha256="ab" * 32, rows=40),),
    code_version="0.1.0",
    parameters={"strategy": "knn", "dim": 256},
)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("artifacts")
    return train_artifact(root, "cheap", cheap_is_always_right=True), train_artifact(root, "smart")


@pytest.fixture(params=["filesystem", "s3"])
def open_registry(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens registries on one store (each call: another node's view of it)."""
    if request.param == "filesystem":
        return lambda: FilesystemArtifactRegistry(tmp_path / "registry")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"routers-{uuid.uuid4().hex[:10]}"
    make_bucket(endpoint, bucket)
    return lambda: S3ArtifactRegistry(
        bucket,
        prefix="team/routers",
        endpoint_url=endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        timeout_s=5,
    )


async def test_versions_are_numbered_with_their_report_and_lineage(
    open_registry: Opener, artifacts: tuple[Path, Path]
) -> None:
    registry = open_registry()
    assert await registry.names() == []
    first = await registry.publish("auto", artifacts[0], report={"apgr": 0.61}, lineage=LINEAGE)
    second = await registry.publish("auto", artifacts[1], report=None, lineage=Lineage(parent=1))
    assert (first.version, second.version) == (1, 2)
    other = open_registry()
    listed = await other.versions("auto")
    assert [v.version for v in listed] == [1, 2]
    assert listed[0].report == {"apgr": 0.61}
    assert listed[0].lineage == LINEAGE
    assert listed[1].lineage.parent == 1
    assert listed[0].digest != listed[1].digest
    assert await other.names() == ["auto"]


async def test_a_fetched_version_loads_and_is_the_one_published(
    open_registry: Opener, artifacts: tuple[Path, Path], tmp_path: Path
) -> None:
    registry = open_registry()
    await registry.publish("auto", artifacts[0], report=None, lineage=LINEAGE)
    await registry.publish("auto", artifacts[1], report=None, lineage=LINEAGE)
    node = open_registry()
    path = await node.fetch("auto", 2, tmp_path / "cache")
    model = await anyio.to_thread.run_sync(load_router, path)
    decision = (await model.aroute(["solve the integral of x^4 dx step by step"], cost_weight=0.0))[0]
    assert decision.models[decision.index] == "big-model"
    assert await node.fetch("auto", 2, tmp_path / "cache") == path  # a verified copy is reused
    with pytest.raises(NotFoundError):
        await node.fetch("auto", 3, tmp_path / "cache")


async def test_promote_and_rollback_keep_a_history(
    open_registry: Opener, artifacts: tuple[Path, Path]
) -> None:
    registry = open_registry()
    assert await registry.promoted("auto") is None
    for artifact in artifacts:
        await registry.publish("auto", artifact, report=None, lineage=LINEAGE)
    await registry.promote("auto", 1, by="alice", reason="first")
    promoted = await registry.promote("auto", 2, by="canary", reason="better APGR")
    assert (promoted.version, promoted.previous) == (2, 1)
    node = open_registry()
    assert (await node.promoted("auto")) == promoted
    back = await rollback(node, "auto", by="bob")
    assert (back.version, back.previous, back.reason) == (1, 2, "rollback")
    assert [(p.version, p.by) for p in await registry.history("auto")] == [
        (1, "alice"),
        (2, "canary"),
        (1, "bob"),
    ]
    with pytest.raises(NotFoundError):
        await registry.promote("auto", 9, by="x", reason="")
    with pytest.raises(NotFoundError):
        await rollback(registry, "never-promoted", by="x")


async def test_bad_names_and_tampered_artifacts_are_refused(
    open_registry: Opener, artifacts: tuple[Path, Path], tmp_path: Path
) -> None:
    registry = open_registry()
    for bad in ("Auto", "../etc", "", "a" * 65, "a/b"):
        with pytest.raises(InvalidRequestError):
            await registry.versions(bad)
    tampered = tmp_path / "tampered"
    shutil.copytree(artifacts[0], tampered)
    (tampered / "metadata.json").write_text("{}")
    with pytest.raises(ArtifactError):
        await registry.publish("auto", tampered, report=None, lineage=LINEAGE)
    with pytest.raises(ArtifactError):
        await registry.publish("auto", tmp_path / "missing", report=None, lineage=LINEAGE)
    assert await registry.versions("auto") == []


async def test_concurrent_publishers_never_share_a_number(
    open_registry: Opener, artifacts: tuple[Path, Path]
) -> None:
    numbers: list[int] = []

    async def publish() -> None:
        numbers.append(
            (await open_registry().publish("auto", artifacts[0], report=None, lineage=LINEAGE)).version
        )

    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(publish)
    assert sorted(numbers) == [1, 2, 3, 4]


async def test_a_canary_runs_until_exactly_one_caller_ends_it(
    open_registry: Opener, artifacts: tuple[Path, Path]
) -> None:
    registry = open_registry()
    for artifact in artifacts:
        await registry.publish("auto", artifact, report=None, lineage=LINEAGE)
    assert await registry.canary("auto") is None
    trial = Canary(name="auto", candidate=2, incumbent=1, share=0.25, started_at=100.0, by="alice")
    await registry.start_canary(trial)
    assert await open_registry().canary("auto") == trial
    assert not await registry.end_canary("auto", 1)  # not the candidate on trial
    ended: list[bool] = []

    async def end() -> None:
        ended.append(await open_registry().end_canary("auto", 2))

    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(end)
    assert sorted(ended) == [False, False, False, True]
    assert await registry.canary("auto") is None
    with pytest.raises(NotFoundError):
        await registry.start_canary(Canary(name="auto", candidate=9, incumbent=1, share=0.5, started_at=0.0))
