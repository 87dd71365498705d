"""The performance harness runs end to end and reports every field (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
def test_harness_smoke(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "harness.py", "--smoke", "--out", str(tmp_path)],
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads((tmp_path / "bench.json").read_text())
    targets = {r["target"] for r in summary["results"]}
    assert targets == {"direct", "floor", "routeiq", "routeiq traced"}
    for r in summary["results"]:
        assert r["requests"] > 0
        assert r["errors"] == 0
        assert {"rps", "p50_ms", "p90_ms", "p99_ms", "cpu_ms_per_request", "rss_mb"} <= set(r)
    assert set(summary["streams"]) == targets
    assert "routeiq" in summary["added_latency_ms_c1"]
    assert summary["ratios"]["routeiq traced/routeiq rps c=16"] > 0  # tracing on runs, errors 0 above
    assert summary["import_routeiq_core_ms"] > 0
    assert (tmp_path / "bench.md").read_text().startswith("| scenario")
    assert (tmp_path / "bench.png").stat().st_size > 1000
