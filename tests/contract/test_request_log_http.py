"""The request log end to end: calls to a real `routeiq serve` read back from `GET /admin/requests`.

Answered, streamed, refused (401, 403, 429) and failed (503) calls through the mock provider, with the
fields each must carry; the readers' scoping; the filters, pages and 400s; and bodies: off by default,
on and masked by the PII detectors when `pii_guard` is enabled.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow

MASTER = "sk-master-request-log-test"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
SECRET_MAIL = "carol.secret@example.com"
CONFIG = f"""
model_list:
  - model_name: demo
    litellm_params:
      model: mock/demo
      mock: {{prompt_tokens: 10, completion_tokens: 5, latency_ms: 20, ttft_ms: 30,
              content: 'Mail {SECRET_MAIL}'}}
    model_info: {{id: demo-a, input_price_per_mtok: 1000, output_price_per_mtok: 2000}}
  - model_name: other
    litellm_params: {{model: mock/other}}
  - model_name: broken
    litellm_params: {{model: mock/broken, mock: {{error_rate: 1, error_status: 503}}}}
resilience: {{num_retries: 0}}
"""
CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi, I am dave@example.org"}]}


def start(tmp_path_factory: pytest.TempPathFactory, extra: str = "") -> GatewayProcess:
    keys = str(tmp_path_factory.mktemp("request-log") / "keys.db")
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": keys}
    return GatewayProcess(CONFIG + extra, env=env)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with start(tmp_path_factory) as gw:
        yield gw
        assert "Traceback" not in gw.log(), gw.log()


class Client:
    """httpx against one gateway, with the helpers the tests share."""

    def __init__(self, gw: GatewayProcess) -> None:
        self.http = httpx.Client(base_url=gw.base_url, timeout=10)

    def issue(self, **body: Any) -> tuple[str, str]:
        r = self.http.post("/admin/keys", json=body, headers=ADMIN)
        assert r.status_code == 201, r.text
        return str(r.json()["key"]), str(r.json()["key_id"])

    def chat(self, key: str | None, **body: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.http.post("/v1/chat/completions", json={**CHAT, **body}, headers=headers)

    def requests(self, key: str | None = None, **params: Any) -> dict[str, Any]:
        r = self.http.get("/admin/requests", params=params, headers=bearer(key) if key else ADMIN)
        assert r.status_code == 200, r.text
        page: dict[str, Any] = r.json()
        return page

    def record(self, request_id: str) -> dict[str, Any]:
        """The record of a call, once the call has finished (it is written as the call ends)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = self.http.get(f"/admin/requests/{request_id}", headers=ADMIN)
            if r.status_code == 200:
                found: dict[str, Any] = r.json()
                return found
            assert r.status_code == 404, r.text
            time.sleep(0.05)
        raise AssertionError(f"no record of {request_id}")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def client(gateway: GatewayProcess) -> Iterator[Client]:
    c = Client(gateway)
    yield c
    c.http.close()


def test_an_answered_call(client: Client) -> None:
    key, key_id = client.issue(team="t1")
    r = client.chat(key)
    assert r.status_code == 200
    assert SECRET_MAIL in r.text  # the log redacts its copy only
    record = client.record(r.headers["x-request-id"])
    assert record["request_id"] == r.headers["x-request-id"]
    assert (record["status"], record["error_type"]) == (200, None)
    assert (record["key_id"], record["team"], record["surface"], record["operation"]) == (
        key_id,
        "t1",
        "openai",
        "chat",
    )
    assert (record["model"], record["model_group"], record["deployment_id"]) == ("demo", "demo", "demo-a")
    assert (record["prompt_tokens"], record["completion_tokens"], record["attempts"]) == (10, 5, 1)
    assert record["cost"] == pytest.approx(0.02)  # 10 * 1000 / 1e6 + 5 * 2000 / 1e6
    assert record["latency_ms"] >= 20  # the mock waits 20 ms
    assert record["ttft_ms"] is None
    assert record["route_reason"]
    assert record["source_ip"] == "127.0.0.1"
    assert (record["request_body"], record["response_body"]) == (None, None)  # bodies are off


def test_a_stream_has_a_time_to_first_token(client: Client) -> None:
    key, _ = client.issue(team="t1")
    with client.http.stream(
        "POST", "/v1/chat/completions", json={**CHAT, "stream": True}, headers=bearer(key)
    ) as r:
        assert r.status_code == 200
        frames = list(r.iter_lines())
    assert frames[-1] == "" or "[DONE]" in "".join(frames)
    record = client.record(r.headers["x-request-id"])
    assert record["status"] == 200
    assert record["ttft_ms"] is not None
    assert 30 <= record["ttft_ms"] <= record["latency_ms"]
    assert record["deployment_id"] == "demo-a"
    assert record["completion_tokens"] > 0


def test_refused_and_failed_calls(client: Client) -> None:
    unknown = client.chat("sk-riq-not-a-key")
    assert unknown.status_code == 401
    record = client.record(unknown.headers["x-request-id"])
    assert (record["status"], record["error_type"], record["key_id"]) == (401, "authentication_error", None)

    limited, limited_id = client.issue(rpm=1, team="t2")
    assert client.chat(limited).status_code == 200
    refused = client.chat(limited)
    assert refused.status_code == 429
    record = client.record(refused.headers["x-request-id"])
    assert (record["status"], record["error_type"], record["key_id"]) == (429, "rate_limit_error", limited_id)
    assert (record["team"], record["model_group"], record["cost"]) == ("t2", "demo", 0.0)

    narrow, _ = client.issue(models=["other"])
    forbidden = client.chat(narrow)
    assert forbidden.status_code == 403
    assert client.record(forbidden.headers["x-request-id"])["status"] == 403

    broken = client.http.post("/v1/chat/completions", json={**CHAT, "model": "broken"}, headers=ADMIN)
    assert broken.status_code == 503
    record = client.record(broken.headers["x-request-id"])
    assert (record["status"], record["error_type"], record["deployment_id"]) == (503, "api_error", "broken-0")
    assert record["attempts"] >= 1  # every attempt failed, each is counted
    assert record["key_id"] is None  # the master key

    classes = {r["status"] // 100 for r in client.requests(status="4xx", limit=500)["records"]}
    assert classes == {4}
    assert all(r["status"] == 503 for r in client.requests(status="503")["records"])
    newest = client.requests(key_id=limited_id)["records"][0]
    assert newest["request_id"] == refused.headers["x-request-id"]


def test_filters_and_pages(client: Client) -> None:
    key, key_id = client.issue(team="pages")
    started = time.time()
    sent = [client.chat(key, model=model).headers["x-request-id"] for model in ("demo", "other") * 3]
    for request_id in sent:
        client.record(request_id)
    assert {r["request_id"] for r in client.requests(team="pages", model="other")["records"]} == set(
        sent[1::2]
    )
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started - 1))
    assert len(client.requests(team="pages", since=iso)["records"]) == 6
    assert client.requests(team="pages", until=str(started - 60))["records"] == []
    seen, cursor = [], None
    while True:
        page = client.requests(team="pages", limit=4, **({"cursor": cursor} if cursor else {}))
        seen += [r["request_id"] for r in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sent[::-1]  # newest first, each once
    assert client.requests(key_id=key_id, request_id=sent[0])["records"][0]["request_id"] == sent[0]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"status": "2x"}, "status"),
        ({"status": "700"}, "status"),
        ({"since": "yesterday"}, "since"),
        ({"until": "nan"}, "until"),
        ({"since": "20", "until": "10"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"team": "t" * 1000}, "team"),
    ],
)
def test_bad_parameters_are_clear_400s(client: Client, params: dict[str, str], param: str) -> None:
    r = client.http.get("/admin/requests", params=params, headers=ADMIN)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert r.headers["x-request-id"]


def test_readers_see_only_what_they_may(client: Client) -> None:
    admin_of_t3, _ = client.issue(team="t3", role="team_admin")
    one, _ = client.issue(team="t3")
    two, two_id = client.issue(team="t3")
    outsider, outsider_id = client.issue(team="t4")
    loner, _ = client.issue(role="viewer")
    calls = {name: client.chat(key).headers["x-request-id"] for name, key in (("one", one), ("two", two))}
    calls["outsider"] = client.chat(outsider).headers["x-request-id"]
    for request_id in calls.values():
        client.record(request_id)

    def seen(key: str, **params: Any) -> set[str]:
        return {r["request_id"] for r in client.requests(key, limit=500, **params)["records"]}

    assert seen(one) == {calls["one"]}  # a member: its own key's calls, not its team's
    assert seen(one, key_id=two_id) == set()
    assert seen(admin_of_t3) >= {calls["one"], calls["two"]}
    assert calls["outsider"] not in seen(admin_of_t3)
    assert seen(admin_of_t3, key_id=outsider_id) == set()
    assert {r["team"] for r in client.requests(admin_of_t3, limit=500)["records"]} == {"t3"}
    assert seen(loner) == set()  # a viewer without a team: only its own key, which made no call
    assert set(calls.values()) <= seen(MASTER)

    assert client.http.get(f"/admin/requests/{calls['two']}", headers=bearer(one)).status_code == 404
    assert client.http.get(f"/admin/requests/{calls['one']}", headers=bearer(one)).status_code == 200
    assert (
        client.http.get(f"/admin/requests/{calls['outsider']}", headers=bearer(admin_of_t3)).status_code
        == 404
    )
    assert client.http.get("/admin/requests").status_code == 401
    assert client.http.get("/admin/requests", headers=bearer("sk-riq-bogus")).status_code == 401


def test_bodies_are_logged_when_asked_and_masked_with_pii_guard(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    extra = "plugins: {enabled: [pii_guard]}\nobservability: {request_log: {bodies: true}}\n"
    with start(tmp_path_factory, extra) as gw:
        client = Client(gw)
        try:
            r = client.http.post("/v1/chat/completions", json=CHAT, headers=ADMIN)
            assert r.status_code == 200
            assert SECRET_MAIL in r.text  # pii_guard checks requests; answers reach the client as they are
            record = client.record(r.headers["x-request-id"])
            assert record["request_body"] is not None
            assert record["response_body"] is not None
            assert '"model":"demo"' in record["request_body"]
            assert "dave@example.org" not in record["request_body"]
            assert SECRET_MAIL not in record["response_body"]
            assert "[REDACTED:EMAIL]" in record["response_body"]
        finally:
            client.http.close()
        assert "Traceback" not in gw.log(), gw.log()


def test_a_disabled_log_answers_404(tmp_path_factory: pytest.TempPathFactory) -> None:
    env = {
        "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path_factory.mktemp("off") / "keys.db"),
        "ROUTEIQ_OBSERVABILITY__REQUEST_LOG__ENABLED": "false",
    }
    container = Container()
    container.settings.override(providers.Object(load_settings(None, env)))
    with TestClient(create_app(container)) as c:
        r = c.get("/admin/requests")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "request_log_disabled")
