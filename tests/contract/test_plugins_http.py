"""Plugin hooks on a real HTTP request: order, modification rights, failure modes, refusals, startup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from routeiq_core.errors import ConfigurationError
from tests.support.plugins import Broken, Recorder

MODELS = """
model_list:
  - model_name: demo
    litellm_params: {model: mock/demo, mock: {content: hello world}}
"""
CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}
REC = "tests.support.plugins:Recorder"
BROKEN = "tests.support.plugins:Broken"


def app_with(tmp_path: Path, plugins_yaml: str) -> Litestar:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(MODELS + plugins_yaml)
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), {})))
    return create_app(container)


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Any]:
    clients: list[TestClient[Litestar]] = []

    def build(plugins_yaml: str) -> tuple[TestClient[Litestar], Any]:
        app = app_with(tmp_path, plugins_yaml)
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        client.__enter__()
        return client, app.state.container.plugin_manager()

    yield build
    for c in clients:
        c.__exit__(None, None, None)


def test_hooks_fire_in_order_on_a_request(make: Any) -> None:
    client, manager = make(f"plugins:\n  enabled: ['{REC}']\n")
    r = client.post("/v1/chat/completions", json=CHAT)
    assert r.status_code == 200
    assert r.headers["x-seen-by-recorder"] == "1"
    rec = manager.get("recorder")
    assert rec.calls == ["on_startup", "before_request", "before_call:demo-0", "after_response"]


def test_stream_hooks_fire_per_chunk_then_end(make: Any) -> None:
    client, manager = make(f"plugins:\n  enabled: ['{REC}']\n")
    with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as r:
        text = "".join(r.iter_text())
    assert text.rstrip().endswith("data: [DONE]")
    calls = manager.get("recorder").calls
    assert calls[:3] == ["on_startup", "before_request", "before_call:demo-0"]
    assert calls.count("on_stream_chunk") >= 2
    assert calls[-2:] == ["on_stream_end", "after_response"]


def test_modifications_need_their_capability(make: Any) -> None:
    allowed = f"plugins:\n  enabled: ['{REC}']\n  {REC}: {{shout: true}}\n"
    client, _ = make(allowed.replace(f"  {REC}:", f"  '{REC}':"))
    assert (
        client.post("/v1/chat/completions", json=CHAT).json()["choices"][0]["message"]["content"]
        == "HELLO WORLD"
    )


def test_a_plugin_lacking_a_capability_cannot_use_it(make: Any) -> None:
    yaml = (
        f"plugins:\n  enabled: ['{REC}']\n"
        f"  '{REC}': {{shout: true, capabilities: [request.read, response.read]}}\n"
    )
    client, _ = make(yaml)
    r = client.post("/v1/chat/completions", json=CHAT)
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"] == "hello world"  # the change was dropped
    failures = [m for m in client.get("/admin/metrics").json() if m["name"] == "routeiq_plugin_failures"]
    assert {m["labels"]["hook"] for m in failures} == {"before_request", "after_response"}


def test_capability_allow_list_refuses_at_startup(tmp_path: Path) -> None:
    yaml = f"plugins:\n  enabled: ['{REC}']\n  allowed_capabilities: [request.read]\n"
    with pytest.raises(ConfigurationError, match=r"not in plugins\.allowed_capabilities"):
        app_with(tmp_path, yaml).state.container.plugin_manager()


def test_dependency_cycle_and_missing_dependency_are_config_errors(tmp_path: Path) -> None:
    a = "tests.support.plugins:Recorder"
    cycle = "plugins:\n  enabled: ['tests.support.plugins:Recorder', 'tests.support.plugins:Recorder ']\n"
    del cycle
    yaml = f"plugins:\n  enabled: ['{a}']\n  '{a}': {{name: a, depends_on: [a]}}\n"
    with pytest.raises(ConfigurationError, match="dependency cycle"):
        app_with(tmp_path, yaml).state.container.plugin_manager()
    missing = f"plugins:\n  enabled: ['{a}']\n  '{a}': {{depends_on: [ghost]}}\n"
    with pytest.raises(ConfigurationError, match="depends on ghost"):
        app_with(tmp_path, missing).state.container.plugin_manager()


@pytest.mark.parametrize(("mode", "first", "later"), [("continue", 200, 200), ("abort", 502, 502)])
def test_failure_modes(make: Any, mode: str, first: int, later: int) -> None:
    yaml = f"plugins:\n  enabled: ['{BROKEN}']\n  '{BROKEN}': {{mode: {mode}}}\n"
    client, _ = make(yaml)
    assert client.post("/v1/chat/completions", json=CHAT).status_code == first
    r = client.post("/v1/chat/completions", json=CHAT)
    assert r.status_code == later
    if mode == "abort":
        assert r.json()["error"]["code"] == "plugin_failed"


def test_quarantine_switches_a_failing_plugin_off(make: Any) -> None:
    yaml = f"plugins:\n  enabled: ['{BROKEN}']\n  '{BROKEN}': {{mode: quarantine}}\n"
    client, manager = make(yaml)
    for _ in range(4):
        assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
    broken: Broken = manager.get("broken")
    assert broken.attempts == 2  # quarantined after 2 failures: never called again
    ready = client.get("/health/ready").json()
    plugins = next(c for c in ready["components"] if c["name"] == "plugins")
    assert (plugins["status"], plugins["reason"]) == ("degraded", "switched off: broken")


def test_a_refusal_is_a_clear_400_and_reaches_on_error(make: Any) -> None:
    yaml = f"plugins:\n  enabled: ['{REC}', 'tests.support.plugins:Refuser']\n"
    client, manager = make(yaml)
    r = client.post("/v1/chat/completions", json=CHAT)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "content_policy_violation"
    rec: Recorder = manager.get("recorder")
    assert rec.calls[-1] == "on_error:content_policy_violation"


def test_unknown_plugin_and_stray_section_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        app_with(
            tmp_path, "plugins:\n  enabled: [no_such_plugin]\n  other: {a: 1}\n"
        ).state.container.plugin_manager()
    text = "\n".join(info.value.problems)
    assert "unknown plugin 'no_such_plugin'" in text
    assert "plugins.other: settings for a plugin that is not enabled" in text


def test_no_plugins_no_overhead_path(make: Any) -> None:
    client, manager = make("")
    assert not manager.enabled
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
