"""The routing MLOps loop end to end, on a real `routeiq serve --workers 2` with mock deployments.

Mock models with known per-prompt qualities (a user's scoring function: only `strong` solves
integrals); the promoted router (v1) sends everything to `cheap`. Exploration asks the other
candidate of every call and scores both; `routeiq retrain --canary` trains v2 on what was collected
and puts it on trial; clients post feedback; the canary's sequential test promotes v2, which sends
integrals to `strong`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from routeiq_app.cli import main
from tests.support.gateway_process import GatewayProcess
from tests.support.routers import train_artifact

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
CONFIG = """
model_list:
  - model_name: cheap
    litellm_params: {{model: mock/cheap}}
  - model_name: strong
    litellm_params: {{model: mock/strong}}
routing:
  registry: {{path: '{registry}', poll_interval_s: 0.2, canary_check_interval_s: 0.3}}
  exploration:
    enabled: true
    share: 1.0
    scorer: function
    scorer_function: tests.support.scorers:math_quality
    dataset_dir: '{data}'
  routers:
    - name: auto
      registry_name: math-router
      model_map: {{small-model: cheap, big-model: strong}}
observability: {{request_log: {{flush_interval_s: 0.1}}}}
"""


def prompt(i: int) -> str:
    return f"solve the integral of x^{i} dx step by step" if i % 2 == 0 else f"say hello to friend number {i}"


def call(http: httpx.Client, i: int, *, feedback: bool) -> str:
    r = http.post(
        "/v1/chat/completions", json={"model": "auto", "messages": [{"role": "user", "content": prompt(i)}]}
    )
    assert r.status_code == 200, r.text
    group = r.headers["x-routeiq-model-group"]
    if feedback:
        right = 0.0 if "integral" in prompt(i) and group != "strong" else 1.0
        fed = http.post("/v1/feedback", json={"request_id": r.headers["x-request-id"], "score": right})
        assert fed.status_code == 201, fed.text
    return group


def test_explore_retrain_canary_promote(tmp_path: Path) -> None:
    registry, data = tmp_path / "registry", tmp_path / "data"
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(registry=registry, data=data))
    cheap = train_artifact(tmp_path / "a", "cheap", cheap_is_always_right=True)
    assert main(["routers", "publish", "math-router", str(cheap), "--registry", str(registry)]) == 0
    assert main(["routers", "promote", "math-router", "1", "--registry", str(registry)]) == 0
    env = {
        "ROUTEIQ_SERVER__WORKERS": "2",
        "PYTHONPATH": str(REPO),
        "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db"),
    }
    with GatewayProcess(config, env=env) as gw, httpx.Client(base_url=gw.base_url, timeout=10) as http:
        assert {call(http, i, feedback=False) for i in range(60)} == {"cheap"}
        collected = data / "auto.jsonl"
        deadline = time.monotonic() + 20
        while not collected.exists() or len(collected.read_text().splitlines()) < 60:
            assert time.monotonic() < deadline, f"exploration did not collect 60 rows: {gw.log()[-3000:]}"
            time.sleep(0.2)
        rows = [json.loads(line) for line in collected.read_text().splitlines()]
        integral = next(r for r in rows if "integral" in r["prompt"])
        assert integral["scores"] == {"small-model": 0.0, "big-model": 1.0}
        assert integral["chosen"] == "small-model"
        assert integral["full"] is True
        assert set(integral["costs"]) == {"small-model", "big-model"}

        assert main(["retrain", "auto", "--config", str(config), "--canary", "0.5", "--min-rows", "40"]) == 0
        promoted = registry / "math-router" / "promoted.json"
        deadline = time.monotonic() + 60
        i = 0
        while b'"version":2' not in promoted.read_bytes():
            assert time.monotonic() < deadline, "the canary did not promote the retrained router"
            call(http, i, feedback=True)
            i += 1
        time.sleep(1)  # every worker follows within the poll interval
        assert {call(http, i, feedback=False) for i in range(0, 40, 2)} == {"strong"}
        assert "Traceback" not in gw.log(), gw.log()
    versions = json.loads((registry / "math-router" / "versions" / "000002" / "version.json").read_text())
    assert versions["lineage"]["parent"] == 1
    assert versions["lineage"]["data"][0]["rows"] >= 60
