"""The JSON-lines routing dataset: rows kept apart (full vs off-policy), concurrent appends whole,
and the full file is a routing table `routeiq train` loads as it stands.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from routeiq_adapters.routing_data import JsonlRoutingDataset
from routeiq_core.calls.exploration import DatasetRow
from routeiq_core.routing.learned import load_routing_table

pytestmark = pytest.mark.anyio


def row(i: int, *, full: bool = True) -> DatasetRow:
    scores = {"a": 1.0, "b": 0.0} if full else {"a": 1.0}
    return DatasetRow(
        id=f"r{i}",
        prompt=f"prompt {i} " + "x" * 2_000,
        scores=scores,
        costs=dict.fromkeys(scores, 0.01),
        router="auto",
        chosen="a",
        full=full,
        at=float(i),
    )


async def test_full_and_off_policy_rows_are_kept_apart_and_appends_never_interleave(tmp_path: Path) -> None:
    dataset = JsonlRoutingDataset(tmp_path / "data")
    async with anyio.create_task_group() as group:
        for i in range(60):
            group.start_soon(dataset.append, row(i, full=i % 3 != 0))
    full = await JsonlRoutingDataset(tmp_path / "data").rows("auto", full=True)
    partial = await dataset.rows("auto", full=False)
    assert (len(full), len(partial)) == (40, 20)
    assert {r.id for r in full} | {r.id for r in partial} == {f"r{i}" for i in range(60)}
    table = load_routing_table(dataset.path("auto"))
    assert len(table) == 40
    assert table.models == ("a", "b")
    assert await dataset.rows("other", full=True) == []


def test_a_router_name_that_cannot_name_a_file_is_refused(tmp_path: Path) -> None:
    dataset = JsonlRoutingDataset(tmp_path)
    for bad in ("../etc", "a/b", "", ".hidden"):
        with pytest.raises(ValueError, match="cannot name"):
            dataset.path(bad)
