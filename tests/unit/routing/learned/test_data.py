"""Loading routing tables in the shared JSONL format, and seeded splits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from routeiq_core.routing.learned import RoutingTableError, k_fold, load_routing_table, train_test_split


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _row(
    i: int, scores: dict[str, float] | None = None, costs: dict[str, float] | None = None
) -> dict[str, object]:
    scores = scores or {"zeta": 1.0, "alpha": 0.0, "mid": 0.5}
    return {
        "id": f"r{i}",
        "prompt": f"prompt {i}",
        "task": "t",
        "scores": scores,
        "costs": costs or dict.fromkeys(scores, 0.1),
    }


def test_any_models_sorted_columns(tmp_path: Path) -> None:
    table = load_routing_table(_write(tmp_path / "t.jsonl", [_row(0), _row(1)]))
    assert table.models == ("alpha", "mid", "zeta")
    np.testing.assert_array_equal(table.scores[0], [0.0, 0.5, 1.0])
    assert table.costs.shape == (2, 3)
    assert len(table) == 2
    assert table.ids == ("r0", "r1")


def test_limit_and_subset(tmp_path: Path) -> None:
    table = load_routing_table(_write(tmp_path / "t.jsonl", [_row(i) for i in range(5)]), limit=3)
    assert len(table) == 3
    assert table.subset([2, 0]).ids == ("r2", "r0")
    assert table.content_hash() == load_routing_table(tmp_path / "t.jsonl", limit=3).content_hash()
    assert table.content_hash() != table.subset([0, 1]).content_hash()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "line 2"),
        (json.dumps(_row(1, scores={"alpha": 1.0})), "line 2.*at least two models"),
        (
            json.dumps(_row(1, scores={"alpha": 1.0, "beta": 0.0}, costs={"alpha": 0.1})),
            "line 2.*'costs' names",
        ),
        (json.dumps(_row(1, scores={"alpha": 1.0, "other": 0.0})), "line 2.*differ from the first line"),
        (json.dumps(_row(1, scores={"alpha": -1.0, "mid": 0.0, "zeta": 0.0})), "line 2.*finite number >= 0"),
        (json.dumps({"id": "x", "prompt": "p"}), "line 2"),
    ],
)
def test_bad_rows_name_the_line(tmp_path: Path, bad: str, message: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(_row(0)) + "\n" + bad + "\n")
    with pytest.raises(RoutingTableError, match=message):
        load_routing_table(path)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(RoutingTableError, match="no such routing table"):
        load_routing_table(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(RoutingTableError, match="no rows"):
        load_routing_table(tmp_path / "empty.jsonl")


def test_splits_are_seeded_and_partition() -> None:
    train, test = train_test_split(100, test_fraction=0.2, seed=1)
    assert len(test) == 20
    assert len(train) == 80
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    np.testing.assert_array_equal(test, train_test_split(100, test_fraction=0.2, seed=1)[1])
    assert not np.array_equal(test, train_test_split(100, test_fraction=0.2, seed=2)[1])
    folds = k_fold(10, 3, seed=0)
    assert sorted(np.concatenate([te for _, te in folds]).tolist()) == list(range(10))
    for tr, te in folds:
        assert not set(tr) & set(te)
    with pytest.raises(ValueError, match="k must be"):
        k_fold(3, 5)
