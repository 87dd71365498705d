"""Routed names served from the router registry: `routeiq routers` publishes and promotes, and every
worker of a real `routeiq serve --workers 2` follows the promotion with no reload (and a rollback).
"""

from __future__ import annotations

import getpass
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from routeiq_app.cli import main
from tests.support.gateway_process import GatewayProcess
from tests.support.routers import train_artifact

pytestmark = pytest.mark.slow

USER = getpass.getuser()
MATH = "solve the integral of x^5 dx step by step"
CONFIG = """
model_list:
  - model_name: cheap
    litellm_params: {{model: mock/cheap}}
  - model_name: strong
    litellm_params: {{model: mock/strong}}
routing:
  registry: {{path: '{registry}', poll_interval_s: 0.2}}
  routers:
    - name: auto
      registry_name: math-router
      model_map: {{small-model: cheap, big-model: strong}}
"""


def choices(base_url: str, count: int) -> set[str]:
    """The routed choice of ``count`` math prompts, each on a new connection (spread over workers)."""
    seen = set()
    for _ in range(count):
        body = {"model": "auto", "messages": [{"role": "user", "content": MATH}]}
        r = httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=10)
        seen.add(r.headers.get("x-routeiq-router-choice", f"status {r.status_code}: {r.text[:120]}"))
    return seen


def converge(base_url: str, wanted: str, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while (seen := choices(base_url, 30)) != {wanted}:
        assert time.monotonic() < deadline, f"workers did not converge on {wanted}: {seen}"
        time.sleep(0.2)


def test_every_worker_follows_promotions_and_rollbacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "registry"
    cheap = train_artifact(tmp_path / "a", "cheap", cheap_is_always_right=True)
    smart = train_artifact(tmp_path / "a", "smart")
    cli = ["--registry", str(registry)]
    assert main(["routers", "publish", "math-router", str(cheap), *cli, "--param", "strategy=knn"]) == 0
    assert main(["routers", "publish", "math-router", str(smart), *cli, "--parent", "1"]) == 0
    env = {"ROUTEIQ_SERVER__WORKERS": "2", "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}
    with GatewayProcess(CONFIG.format(registry=registry), env=env) as gw:
        body = {"model": "auto", "messages": [{"role": "user", "content": MATH}]}
        r = httpx.post(f"{gw.base_url}/v1/chat/completions", json=body, timeout=10)
        assert r.status_code == 503, r.text  # nothing promoted yet
        assert r.json()["error"]["code"] == "router_not_loaded"

        assert main(["routers", "promote", "math-router", "1", *cli, "--reason", "baseline"]) == 0
        converge(gw.base_url, "cheap")
        assert main(["routers", "promote", "math-router", "2", *cli]) == 0
        converge(gw.base_url, "strong")
        assert main(["routers", "rollback", "math-router", *cli]) == 0
        converge(gw.base_url, "cheap")

        state = httpx.get(f"{gw.base_url}/admin/routing", timeout=10).json()
        assert state["registry"] == {"serving": {"auto": 1}, "last_error": None}
        assert "Traceback" not in gw.log(), gw.log()

    capsys.readouterr()
    assert main(["routers", "history", "math-router", *cli, "--json"]) == 0
    history = capsys.readouterr().out
    assert [p in history for p in ('"version":1', '"version":2', '"reason":"rollback"')] == [True] * 3
    assert main(["routers", "list", "math-router", *cli]) == 0
    listing = capsys.readouterr().out
    assert "promoted 1" in listing
    assert " * v1" in listing
    assert "   v2" in listing
    assert main(["routers", "promote", "math-router", "7", *cli]) == 1
    assert "no version 7" in capsys.readouterr().err


def test_a_version_whose_models_are_not_model_groups_is_refused_and_the_name_answers_503(
    tmp_path: Path,
) -> None:
    registry = tmp_path / "registry"
    good = train_artifact(tmp_path / "a", "good", cheap_is_always_right=True)
    cli = ["--registry", str(registry)]
    assert main(["routers", "publish", "math-router", str(good), *cli]) == 0
    assert main(["routers", "promote", "math-router", "1", *cli]) == 0
    config = CONFIG.format(registry=registry).replace(
        "{small-model: cheap, big-model: strong}", "{small-model: cheap}"
    )
    config = config.replace("  - model_name: strong\n    litellm_params: {model: mock/strong}\n", "")
    with GatewayProcess(config, env={"ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}) as gw:
        state = httpx.get(f"{gw.base_url}/admin/routing", timeout=10).json()
        assert state["registry"]["serving"] == {}
        assert "map to no model group" in state["registry"]["last_error"]
        body = {"model": "auto", "messages": [{"role": "user", "content": MATH}]}
        assert httpx.post(f"{gw.base_url}/v1/chat/completions", json=body, timeout=10).status_code == 503


CANARY_CONFIG = """
model_list:
  - model_name: cheap
    litellm_params: {{model: mock/cheap}}
  - model_name: strong
    litellm_params: {{model: mock/strong}}
routing:
  registry: {{path: '{registry}', poll_interval_s: 0.2, canary_check_interval_s: 0.3}}
  routers:
    - name: auto
      registry_name: math-router
      model_map: {{small-model: cheap, big-model: strong}}
observability: {{request_log: {{flush_interval_s: 0.1}}}}
"""


def drive(base_url: str, calls: int) -> None:
    """Math prompts, each scored by the client: right (1) from the strong model, wrong (0) from the cheap."""
    with httpx.Client(base_url=base_url, timeout=10) as http:
        for _ in range(calls):
            body = {"model": "auto", "messages": [{"role": "user", "content": MATH}]}
            r = http.post("/v1/chat/completions", json=body)
            assert r.status_code == 200, r.text
            score = 1.0 if r.headers["x-routeiq-model-group"] == "strong" else 0.0
            fed = http.post("/v1/feedback", json={"request_id": r.headers["x-request-id"], "score": score})
            assert fed.status_code == 201, fed.text


def wait_until(check: Any, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_canary_promotes_the_better_router_and_rolls_a_worse_one_back(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    cheap = train_artifact(tmp_path / "a", "cheap", cheap_is_always_right=True)
    smart = train_artifact(tmp_path / "a", "smart")
    cli = ["--registry", str(registry)]
    for artifact in (cheap, smart, cheap):  # v1 incumbent, v2 better, v3 as bad as v1
        assert main(["routers", "publish", "math-router", str(artifact), *cli]) == 0
    assert main(["routers", "promote", "math-router", "1", *cli]) == 0
    env = {"ROUTEIQ_SERVER__WORKERS": "2", "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}
    with GatewayProcess(CANARY_CONFIG.format(registry=registry), env=env) as gw:
        promoted = registry / "math-router" / "promoted.json"
        trial = ["--share", "0.5", "--min-samples", "20", "--cost-tolerance", "0"]
        assert main(["routers", "canary", "math-router", "2", *cli, *trial]) == 0
        wait_until(lambda: choices(gw.base_url, 20) == {"cheap", "strong"})  # both arms answer
        drive(gw.base_url, 160)
        wait_until(lambda: b'"version":2' in promoted.read_bytes())
        converge(gw.base_url, "strong")

        assert main(["routers", "canary", "math-router", "3", *cli, *trial]) == 0
        drive(gw.base_url, 160)
        wait_until(lambda: not (registry / "math-router" / "canary.json").exists())
        assert b'"version":2' in promoted.read_bytes()  # the worse candidate was rolled back
        converge(gw.base_url, "strong")

        audit = httpx.get(f"{gw.base_url}/admin/audit", params={"action": "router.canary"}, timeout=10).json()
        events = [e["event"] for e in audit["entries"]]
        assert [(e["details"]["decision"], e["details"]["candidate"], e["actor"]) for e in events] == [
            ("promote", 2, "system"),
            ("rollback", 3, "system"),
        ]
        assert "Traceback" not in gw.log(), gw.log()
    lines = (registry / "math-router" / "promotions" / "history.jsonl").read_bytes().splitlines()
    assert [(p["version"], p["by"]) for p in map(msgspec.json.decode, lines)] == [
        (1, "cli:" + USER),
        (2, "canary"),
    ]


def test_canary_arguments_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = tmp_path / "registry"
    cheap = train_artifact(tmp_path / "a", "cheap", cheap_is_always_right=True)
    cli = ["--registry", str(registry)]
    assert main(["routers", "publish", "math-router", str(cheap), *cli]) == 0
    assert main(["routers", "canary", "math-router", "1", *cli]) == 2  # nothing promoted to compare with
    assert "promote one first" in capsys.readouterr().err
    assert main(["routers", "promote", "math-router", "1", *cli]) == 0
    assert main(["routers", "canary", "math-router", "1", *cli]) == 2
    assert main(["routers", "canary", "math-router", "9", *cli]) == 1  # no such version
    assert main(["routers", "canary", "math-router", "--stop", *cli]) == 1
    assert "no canary running" in capsys.readouterr().err
