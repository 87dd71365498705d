"""`routeiq train | eval | route` end to end, through the functions `routeiq_app.cli_routing` registers."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from routeiq_app.cli_routing import register
from tests.unit.routing.learned.synthetic import synthetic_rows

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "routing-data"
MMLU = DATA / "mmlu-2model.jsonl"


def routeiq(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="routeiq")
    register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    status: int = args.run(args)
    return status


@pytest.fixture(scope="module")
def mmlu_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not MMLU.is_file():
        pytest.skip(f"shared routing data not found at {DATA} (expected next to the repository)")
    lines = MMLU.read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("data") / "mmlu-slice.jsonl"  # a temporary slice, never kept in the repo
    path.write_text("\n".join(lines[::40]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "synthetic-3model.jsonl"
    path.write_text("".join(json.dumps(_as_dict(row)) + "\n" for row in synthetic_rows(240)))
    return path


def _as_dict(row: object) -> dict[str, object]:
    return {f: getattr(row, f) for f in ("id", "prompt", "task", "scores", "costs")}


def test_train_eval_route_on_mmlu(
    mmlu_slice: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "knn"
    assert (
        routeiq("train", "--strategy", "knn", "--data", str(mmlu_slice), "--out", str(out), "--dim", "256")
        == 0
    )
    assert (out / "manifest.json").is_file()
    assert (out / "index.faiss").is_file()
    report, plot, predictions = tmp_path / "r.json", tmp_path / "p.png", tmp_path / "p.jsonl"
    status = routeiq(
        "eval", "--router", str(out), "--data", str(mmlu_slice), "--bootstrap", "50",
        "--report", str(report), "--plot", str(plot), "--predictions", str(predictions), "--quiet",
    )  # fmt: skip
    assert status == 0
    text = capsys.readouterr().out
    assert "APGR" in text
    assert "oracle" in text
    assert "best_single" in text
    body = json.loads(report.read_text())
    router = next(r for r in body["routers"] if r["name"] == "router")
    assert {"apgr", "cpt50", "cpt80", "aiq"} <= set(router["metrics"])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = json.loads(predictions.read_text().splitlines()[0])
    assert set(first["predicted"]) == {"gpt-4-1106-preview", "mixtral-8x7b-instruct"}
    assert routeiq("route", "What is 2 + 2?", "--router", str(out), "--cost-weight", "1000") == 0
    routed = capsys.readouterr().out
    assert routed.startswith("route to: mixtral-8x7b-instruct")  # a huge cost weight picks the cheap model
    assert "predicted quality" in routed


def test_cross_validation(mmlu_slice: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "cv.json"
    status = routeiq(
        "eval", "--cv", "3", "--strategy", "best_per_task,linear", "--data", str(mmlu_slice),
        "--bootstrap", "30", "--dim", "128", "--report", str(report), "--quiet",
    )  # fmt: skip
    assert status == 0
    body = json.loads(report.read_text())
    assert body["folds"] == 3
    assert body["prompts"] == len(mmlu_slice.read_text().splitlines())
    names = {r["name"] for r in body["routers"]}
    assert {"router:best_per_task", "router:linear", "random", "oracle", "best_per_task"} <= names
    apgr = next(r for r in body["routers"] if r["name"] == "router:linear")["metrics"]["apgr"]
    assert apgr["low"] <= apgr["estimate"] <= apgr["high"]


def test_any_table_three_made_up_models(
    synthetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bpt"
    assert (
        routeiq(
            "train",
            "--strategy",
            "best_per_task",
            "--data",
            str(synthetic),
            "--out",
            str(out),
            "--dim",
            "128",
        )
        == 0
    )
    assert (
        routeiq("eval", "--router", str(out), "--data", str(synthetic), "--bootstrap", "20", "--quiet") == 0
    )
    assert "AIQ" in capsys.readouterr().out
    assert (
        routeiq("route", "how to simmer garlic in butter for this recipe?", "--router", str(out), "--json")
        == 0
    )
    decision = json.loads(capsys.readouterr().out)
    assert decision["model"] == "gamma-mini"
    assert decision["models"] == ["alpha-7b", "beta-70b", "gamma-mini"]
    status = routeiq(
        "eval", "--holdout", "0.25", "--strategy", "knn", "--data", str(synthetic), "--bootstrap", "20",
        "--dim", "128", "--quiet", "--plot", str(tmp_path / "h.png"),
    )  # fmt: skip
    assert status == 0
    assert (tmp_path / "h.png").is_file()


def test_bad_input_exits_2_with_one_line(
    synthetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(synthetic.read_text().splitlines()[0] + "\n{oops\n")
    assert (
        routeiq("train", "--strategy", "knn", "--data", str(bad), "--out", str(tmp_path / "x"), "--quiet")
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("routeiq: ")
    assert "line 2" in err[-1]
    assert "Traceback" not in "".join(err)
    assert routeiq("train", "--strategy", "nope", "--data", str(synthetic), "--out", str(tmp_path / "y")) == 2
    assert "unknown router kind 'nope'" in capsys.readouterr().err
    assert routeiq("eval", "--data", str(synthetic)) == 2
    assert "give --router DIR" in capsys.readouterr().err


def test_tampered_artifact_exits_2(
    synthetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a"
    assert (
        routeiq(
            "train", "--strategy", "best_per_task", "--data", str(synthetic), "--out", str(out), "--quiet"
        )
        == 0
    )
    target = out / "metadata.json"
    target.write_text(target.read_text().replace('"best_per_task"', '"knn"', 1))
    assert routeiq("route", "hello", "--router", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("routeiq: ")
    assert "metadata.json is truncated or altered" in err
    assert "\n" not in err


def test_report_table_marks_unreached_targets_and_keeps_long_names_aligned() -> None:
    from routeiq_app.cli_routing import format_report
    from routeiq_core.routing.learned.report import EvaluationReport, Interval, RouterReport, SingleModel

    nan = float("nan")
    report = EvaluationReport(
        table="t.jsonl",
        prompts=10,
        models=("a", "b", "c"),
        singles=(SingleModel(model="a", quality=0.5, cost=1.0),),
        oracle_quality=0.9,
        singles_hull_aiq=0.5,
        bootstrap_rounds=10,
        folds=1,
        routers=(
            RouterReport(name="cheapest", metrics={"aiq": Interval(estimate=nan, low=nan, high=0.25)}),
            RouterReport(
                name="router:matrix_factorization", metrics={"aiq": Interval(estimate=0.5, low=0.4, high=0.6)}
            ),
        ),
    )
    text = format_report(report)
    assert "n/r [n/r,0.250]" in text
    assert "nan" not in text
    assert text.splitlines()[-1].startswith("n/r: never reached")
    rows = [line for line in text.splitlines() if line.startswith(("cheapest", "router:"))]
    assert len({line.rindex("]") for line in rows}) == 1  # columns line up
