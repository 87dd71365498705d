"""`routeiq train --strategy auto` end to end on a small slice of the shared MMLU table."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from routeiq_core.routing.learned import load_router, read_metadata
from tests.contract.test_cli_routing import DATA, MMLU, routeiq


@pytest.fixture(scope="module")
def small_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not MMLU.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"shared routing data is required in CI (expected at {DATA})")
        pytest.skip(f"shared routing data not found at {DATA} (expected next to the repository)")
    lines = MMLU.read_text(encoding="utf-8").split("\n")  # not splitlines(): prompts hold U+2028
    path = tmp_path_factory.mktemp("data") / "mmlu-auto.jsonl"  # temporary, never kept in the repo
    path.write_text("\n".join(line for line in lines[::35] if line) + "\n", encoding="utf-8")
    return path


def test_train_auto_selects_saves_the_report_and_routes(
    small_slice: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "auto"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # per-step ETA lines are for terminals
    status = routeiq(
        "train", "--strategy", "auto", "--data", str(small_slice), "--out", str(out),
        "--dim", "128", "--inner-folds", "2", "--index", "numpy", "--limit", "300",
    )  # fmt: skip
    assert status == 0
    captured = capsys.readouterr()
    assert "saved auto-selected" in captured.out
    assert "why:" in captured.out
    assert "ETA" in captured.err  # inner-CV progress
    meta = read_metadata(out)
    selection = meta.extra["selection"]
    assert meta.extra["strategy"] == "auto"
    assert selection["metric"] == "apgr"
    assert selection["inner_folds"] == 2
    names = [c["candidate"]["name"] for c in selection["candidates"]]
    assert "baseline" in names
    assert selection["winner"] in names
    scores = {c["candidate"]["name"]: c for c in selection["candidates"]}
    assert scores[selection["winner"]]["mean"] >= scores["baseline"]["mean"]
    assert all(len(c["fold_scores"]) == 2 for c in selection["candidates"])
    model = load_router(out)
    assert set(model.models) == {"gpt-4-1106-preview", "mixtral-8x7b-instruct"}
    assert routeiq("route", "What is 2 + 2?", "--router", str(out), "--cost-weight", "1000", "--json") == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["model"] == "mixtral-8x7b-instruct"


def test_train_auto_refuses_params(
    small_slice: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = routeiq(
        "train", "--strategy", "auto", "--data", str(small_slice), "--out", str(tmp_path / "x"),
        "--param", "k=3", "--quiet",
    )  # fmt: skip
    assert status == 2
    assert "--param does not apply" in capsys.readouterr().err


def test_train_auto_keeps_eta_lines_off_non_terminals(
    small_slice: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = routeiq(
        "train", "--strategy", "auto", "--data", str(small_slice), "--out", str(tmp_path / "quiet"),
        "--dim", "64", "--inner-folds", "2", "--index", "numpy", "--limit", "150",
    )  # fmt: skip
    assert status == 0
    err = capsys.readouterr().err
    assert "ETA" not in err
    assert "selected" in err
