"""LiteLLM proxy's management and health endpoints over HTTP, on RouteIQ's services and RBAC."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from routeiq_core import __version__

MASTER = "sk-master-litellm-test"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
UPSTREAM_KEY = "sk-upstream-secret-0123456789"
CONFIG = f"""
model_list:
  - model_name: demo
    litellm_params: {{model: mock/demo, mock: {{prompt_tokens: 10, completion_tokens: 5}}}}
    model_info: {{input_price_per_mtok: 1000, output_price_per_mtok: 2000}}
  - model_name: other
    litellm_params: {{model: mock/other}}
  - model_name: remote
    litellm_params:
      model: openai/gpt-4o
      api_base: "https://user:hunter2@upstream.example:8443/v1?sig=s3cret#frag"
      api_key: {UPSTREAM_KEY}
"""
CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


@pytest.fixture
def app(tmp_path: Path) -> Litestar:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), env)))
    return create_app(container)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def litellm_key(key: str) -> dict[str, str]:
    return {"x-litellm-api-key": key}


def generate(client: TestClient[Litestar], **body: Any) -> dict[str, Any]:
    r = client.post("/key/generate", json=body, headers=ADMIN)
    assert r.status_code == 200, r.text
    generated: dict[str, Any] = r.json()
    assert generated["key"].startswith("sk-riq-")
    return generated


def chat(client: TestClient[Litestar], key: str, model: str = "demo") -> int:
    return client.post(
        "/v1/chat/completions", json={**CHAT, "model": model}, headers=litellm_key(key)
    ).status_code


def assert_error(r: Any, status: int, param: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["error"]
    assert error["message"]
    assert error["type"]
    if param is not None:
        assert error["param"] == param, error
    return error


# Health


def test_liveliness_is_litellms_plain_string_on_both_spellings(client: TestClient[Litestar]) -> None:
    for path in ("/health/liveliness", "/health/liveness"):
        r = client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/json")
        assert r.json() == "I'm alive!"


def test_readiness_has_litellms_shape_and_routeiqs_verdict(
    client: TestClient[Litestar], app: Litestar
) -> None:
    r = client.get("/health/readiness")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] in {"healthy", "degraded"}
    assert (body["db"], body["cache"], body["routeiq_version"]) == ("not checked", "not checked", __version__)
    assert "litellm_version" not in body
    assert {c["name"] for c in body["components"]} >= {"lifecycle", "deployments"}
    app.state.container.lifecycle().mark_draining()
    down = client.get("/health/readiness")
    assert down.status_code == 503
    assert (down.json()["status"], down.json()["phase"]) == ("unhealthy", "draining")
    assert client.get("/health/liveliness").status_code == 200  # liveness is not readiness


def test_model_health_needs_an_admin_and_reflects_breakers(
    client: TestClient[Litestar], app: Litestar
) -> None:
    assert_error(client.get("/health"), 401)
    member = generate(client)["key"]
    assert_error(client.get("/health", headers=litellm_key(member)), 403)
    body = client.get("/health", headers=ADMIN).json()
    assert (body["healthy_count"], body["unhealthy_count"]) == (3, 0)
    assert {e["model_name"] for e in body["healthy_endpoints"]} == {"demo", "other", "remote"}
    remote = next(e for e in body["healthy_endpoints"] if e["model_name"] == "remote")
    breakers = app.state.container.breakers()
    for _ in range(10):
        breakers.get(remote["model_id"]).record_failure()
    after = client.get("/health", headers=ADMIN)
    body = after.json()
    assert (body["healthy_count"], body["unhealthy_count"]) == (2, 1)
    down = body["unhealthy_endpoints"][0]
    assert (down["model_name"], down["breaker"]) == ("remote", "open")
    assert "circuit breaker open" in down["error"]
    assert down["api_base"] == "https://upstream.example:8443/v1"


def test_model_health_never_shows_an_api_key_or_url_credentials(client: TestClient[Litestar]) -> None:
    text = client.get("/health", headers=ADMIN).text
    for secret in (UPSTREAM_KEY, "hunter2", "s3cret", "api_key", MASTER):
        assert secret not in text


# Keys


def test_generated_key_works_with_the_litellm_header_until_deleted(client: TestClient[Litestar]) -> None:
    generated = generate(client, models=["demo"], key_alias="ci", metadata={"app": "x"})
    key = generated["key"]
    assert generated["key_name"] == "sk-riq-..." + key[-4:]
    assert generated["token"].startswith("key_")
    assert (generated["models"], generated["key_alias"], generated["metadata"]) == (
        ["demo"],
        "ci",
        {"app": "x"},
    )
    assert chat(client, key) == 200
    assert chat(client, key, "other") == 403  # models is the key's allow-list
    deleted = client.post("/key/delete", json={"keys": [key]}, headers=ADMIN)
    assert (deleted.status_code, deleted.json()) == (200, {"deleted_keys": [key]})
    assert chat(client, key) == 401
    assert (
        client.get("/key/info", params={"key": generated["token"]}, headers=ADMIN).json()["info"]["status"]
        == "revoked"
    )


def test_authorization_wins_over_the_litellm_header(client: TestClient[Litestar]) -> None:
    key = generate(client)["key"]
    both = {"Authorization": "Bearer sk-riq-not-a-key", "x-litellm-api-key": key}
    assert client.post("/v1/chat/completions", json=CHAT, headers=both).status_code == 401
    swapped = {"Authorization": f"Bearer {key}", "x-litellm-api-key": "sk-riq-not-a-key"}
    assert client.post("/v1/chat/completions", json=CHAT, headers=swapped).status_code == 200
    assert (
        client.post(
            "/v1/chat/completions", json=CHAT, headers={"x-litellm-api-key": f"Bearer {key}"}
        ).status_code
        == 200
    )
    # the admin routes read the same header
    assert client.get("/admin/keys", headers=litellm_key(MASTER)).status_code == 200


def test_key_routes_need_a_key_and_the_keys_permission(client: TestClient[Litestar]) -> None:
    member = generate(client)["key"]
    assert_error(client.post("/key/generate", json={}), 401)
    assert_error(client.post("/key/generate", json={}, headers=litellm_key(member)), 403)
    assert_error(client.post("/key/generate", json={}, headers={"Authorization": f"Bearer {member}"}), 403)
    assert_error(client.get("/key/info", params={"key": member}, headers=litellm_key(member)), 403)
    assert_error(client.post("/key/delete", json={"keys": [member]}, headers=litellm_key(member)), 403)
    assert_error(client.post("/key/regenerate", json={"key": member}, headers=litellm_key(member)), 403)
    assert_error(client.post("/team/new", json={}, headers=litellm_key(member)), 403)
    assert_error(client.get("/spend/logs", headers=litellm_key(member)), 403)
    assert chat(client, member) == 200  # nothing above changed or revoked it


def test_limits_budget_and_expiry_map_onto_routeiq(client: TestClient[Litestar]) -> None:
    before = time.time()
    generated = generate(
        client, rpm_limit=2, tpm_limit=1000, max_budget=5, budget_duration="30d", duration="1h", team_id="t1"
    )
    assert (generated["rpm_limit"], generated["tpm_limit"]) == (2, 1000)
    assert (generated["max_budget"], generated["budget_duration"], generated["team_id"]) == (5.0, "30d", "t1")
    assert generated["limits"] == {"requests_per_minute": 2, "total_tokens_per_minute": 1000}
    expires = datetime.fromisoformat(generated["expires"]).timestamp()
    assert before + 3600 - 5 <= expires <= time.time() + 3600 + 5
    key = generated["key"]
    assert [chat(client, key) for _ in range(3)] == [200, 200, 429]


def test_key_info_by_secret_token_or_own_key(client: TestClient[Litestar]) -> None:
    generated = generate(client, user_id="alice")
    by_secret = client.get("/key/info", params={"key": generated["key"]}, headers=ADMIN)
    assert by_secret.status_code == 200, by_secret.text
    assert by_secret.json()["key"] == generated["token"]
    assert by_secret.json()["info"]["user_id"] == "alice"
    assert generated["key"] not in by_secret.text
    by_token = client.get("/key/info", params={"key": generated["token"]}, headers=ADMIN).json()
    assert by_token["info"] == by_secret.json()["info"]
    viewer = client.post("/admin/keys", json={"role": "viewer", "team": "t1"}, headers=ADMIN).json()
    own = client.get("/key/info", headers=litellm_key(viewer["key"]))
    assert (own.status_code, own.json()["key"]) == (200, viewer["key_id"])
    assert_error(client.get("/key/info", params={"key": "sk-riq-unknown"}, headers=ADMIN), 404, "key")
    assert_error(client.get("/key/info", params={"key": "key_0000000000000000"}, headers=ADMIN), 404)
    assert_error(client.get("/key/info", headers=ADMIN), 400, "key")  # the master key has no record


def test_key_update_changes_only_what_it_names(client: TestClient[Litestar]) -> None:
    generated = generate(client, rpm_limit=5, tpm_limit=100, models=["demo"], user_id="bob")
    r = client.post(
        "/key/update",
        json={"key": generated["key"], "rpm_limit": 1, "key_alias": "renamed", "user_id": "bob"},
        headers=ADMIN,
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert (updated["rpm_limit"], updated["tpm_limit"], updated["key_alias"]) == (1, 100, "renamed")
    assert updated["models"] == ["demo"]
    assert [chat(client, generated["key"]) for _ in range(2)] == [200, 429]
    cleared = client.post("/key/update", json={"key": generated["token"], "rpm_limit": None}, headers=ADMIN)
    assert (cleared.json()["rpm_limit"], cleared.json()["tpm_limit"]) == (None, 100)
    expired = client.post(
        "/key/update", json={"key": generated["token"], "expires": "2001-01-01"}, headers=ADMIN
    )
    assert expired.json()["status"] == "expired"
    assert chat(client, generated["key"]) == 401
    revived = client.post("/key/update", json={"key": generated["token"], "expires": None}, headers=ADMIN)
    assert (revived.json()["status"], revived.json()["expires"]) == ("active", None)
    assert_error(
        client.post("/key/update", json={"key": generated["token"], "user_id": "eve"}, headers=ADMIN),
        400,
        "user_id",
    )
    assert_error(client.post("/key/update", json={"rpm_limit": 1}, headers=ADMIN), 400, "key")


def test_regenerate_gives_a_new_working_key_and_kills_the_old(client: TestClient[Litestar]) -> None:
    generated = generate(client, models=["demo"])
    old = generated["key"]
    r = client.post("/key/regenerate", json={"key": old, "rpm_limit": 7}, headers=ADMIN)
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["key"] != old
    assert new["key"].startswith("sk-riq-")
    assert (new["token"], new["rpm_limit"], new["models"]) == (generated["token"], 7, ["demo"])
    assert chat(client, old) == 401
    assert chat(client, new["key"]) == 200
    by_path = client.post(f"/key/{new['token']}/regenerate", headers=ADMIN)
    assert by_path.status_code == 200, by_path.text
    assert chat(client, new["key"]) == 401
    assert chat(client, by_path.json()["key"]) == 200
    client.post("/key/delete", json={"keys": [generated["token"]]}, headers=ADMIN)
    assert_error(client.post("/key/regenerate", json={"key": generated["token"]}, headers=ADMIN), 400)


def test_delete_checks_every_key_before_revoking_any(client: TestClient[Litestar]) -> None:
    kept = generate(client)["key"]
    r = client.post("/key/delete", json={"keys": [kept, "sk-riq-nope"]}, headers=ADMIN)
    assert_error(r, 404, "keys")
    assert chat(client, kept) == 200
    team_admin = client.post("/admin/keys", json={"role": "team_admin", "team": "t1"}, headers=ADMIN).json()[
        "key"
    ]
    mine = client.post("/key/generate", json={}, headers=litellm_key(team_admin)).json()
    assert mine["team_id"] == "t1"  # a team admin's keys are its team's, as on /admin/keys
    r = client.post("/key/delete", json={"keys": [mine["key"], kept]}, headers=litellm_key(team_admin))
    assert_error(r, 403)
    assert chat(client, mine["key"]) == 200
    assert chat(client, kept) == 200


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"bogus": 1}, "bogus"),
        ({"max_parallel_requests": 3}, "max_parallel_requests"),
        ({"key": "sk-my-own"}, "key"),
        ({"max_budget": 10}, "max_budget"),  # a lifetime budget: RouteIQ has none
        ({"max_budget": 10, "budget_duration": "7d"}, "budget_duration"),
        ({"budget_duration": "30d"}, "budget_duration"),
        ({"max_budget": 1e300, "budget_duration": "1d"}, "max_budget"),
        ({"max_budget": "10", "budget_duration": "1d"}, "max_budget"),
        ({"rpm_limit": 10**30}, "rpm_limit"),
        ({"rpm_limit": -1}, "rpm_limit"),
        ({"rpm_limit": 1.5}, "rpm_limit"),
        ({"tpm_limit": True}, "tpm_limit"),
        ({"tpm_limit": {"a": [1, {"b": 2}]}}, "tpm_limit"),
        ({"models": "demo"}, "models"),
        ({"models": [1, [2]]}, "models"),
        ({"metadata": [1]}, "metadata"),
        ({"key_alias": {"x": 1}}, "key_alias"),
        ({"team_id": ""}, "team_id"),
        ({"user_id": "u" * 1000}, "user_id"),
        ({"duration": "forever"}, "duration"),
        ({"duration": 30}, "duration"),
        ({"duration": "999999999d"}, "duration"),
        ({"duration": "1d", "expires": "2099-01-01"}, "duration"),
        ({"expires": "yesterday"}, "expires"),
        ({"expires": "2001-01-01T00:00:00Z"}, "expires_at"),  # in the past (the key service says so)
    ],
)
def test_bad_key_fields_are_400_naming_the_field(
    client: TestClient[Litestar], body: dict[str, Any], param: str
) -> None:
    error = assert_error(client.post("/key/generate", json=body, headers=ADMIN), 400, param)
    assert len(error["message"]) < 400


def test_litellm_defaults_of_unsupported_fields_are_ignored(client: TestClient[Litestar]) -> None:
    body = {
        "max_parallel_requests": None,
        "tags": [],
        "spend": 0,
        "blocked": False,
        "aliases": {},
        "duration": None,
    }
    generated = generate(client, **body)
    assert generated["expires"] is None
    assert generated["models"] == []
    assert generate(client, models=["all-proxy-models"])["models"] == []


@pytest.mark.parametrize(
    "content", [b"{not json", b"[]", b'"str"', b'{"keys": "sk-riq-x"}', b'{"keys": []}', b'{"keys": [1]}']
)
def test_hostile_delete_bodies_are_400(client: TestClient[Litestar], content: bytes) -> None:
    r = client.post("/key/delete", content=content, headers={**ADMIN, "content-type": "application/json"})
    assert_error(r, 400)


def test_delete_refuses_too_many_keys_and_aliases(client: TestClient[Litestar]) -> None:
    assert_error(client.post("/key/delete", json={"keys": ["key_x"] * 101}, headers=ADMIN), 400, "keys")
    assert_error(client.post("/key/delete", json={"key_aliases": ["ci"]}, headers=ADMIN), 400, "key_aliases")


# Teams


def test_team_new_and_info(client: TestClient[Litestar]) -> None:
    r = client.post(
        "/team/new",
        json={
            "team_id": "search",
            "team_alias": "Search",
            "models": ["demo"],
            "rpm_limit": 100,
            "metadata": {"a": 1},
        },
        headers=ADMIN,
    )
    assert r.status_code == 200, r.text
    team = r.json()
    assert (team["team_id"], team["team_alias"], team["models"], team["rpm_limit"]) == (
        "search",
        "Search",
        ["demo"],
        100,
    )
    key = generate(client, team_id="search")
    info = client.get("/team/info", params={"team_id": "search"}, headers=ADMIN)
    assert info.status_code == 200, info.text
    assert info.json()["team_info"]["team_alias"] == "Search"
    assert [k["token"] for k in info.json()["keys"]] == [key["token"]]
    assert key["key"] not in info.text
    generated_id = client.post("/team/new", json={"team_alias": "anon"}, headers=ADMIN).json()["team_id"]
    assert len(generated_id) == 36  # a UUID, as LiteLLM makes
    assert client.post("/team/new", json={"team_id": "search"}, headers=ADMIN).status_code == 409
    assert_error(client.post("/team/new", json={"team_id": "Bad Id"}, headers=ADMIN), 400, "team_id")
    members = {"members_with_roles": [{"role": "user", "user_id": "a"}]}
    assert_error(client.post("/team/new", json=members, headers=ADMIN), 400, "members_with_roles")
    assert_error(client.post("/team/new", json={"teamalias": "x"}, headers=ADMIN), 400, "teamalias")
    assert_error(client.get("/team/info", params={"team_id": "nope"}, headers=ADMIN), 404)
    assert_error(client.get("/team/info", headers=ADMIN), 400, "team_id")


def test_team_info_is_confined_to_the_callers_team(client: TestClient[Litestar]) -> None:
    for team_id in ("t1", "t2"):
        client.post("/team/new", json={"team_id": team_id}, headers=ADMIN)
    team_admin = client.post("/admin/keys", json={"role": "team_admin", "team": "t1"}, headers=ADMIN).json()[
        "key"
    ]
    own = client.get("/team/info", headers=litellm_key(team_admin))
    assert (own.status_code, own.json()["team_id"]) == (200, "t1")
    assert_error(client.get("/team/info", params={"team_id": "t2"}, headers=litellm_key(team_admin)), 403)


# Spend


def test_spend_logs_report_spend_per_key_and_model(client: TestClient[Litestar]) -> None:
    alice = generate(client, user_id="alice")
    bob = generate(client, user_id="bob")
    for key, times in ((alice["key"], 2), (bob["key"], 1)):
        for _ in range(times):
            assert chat(client, key) == 200
    assert chat(client, alice["key"], "other") == 200
    rows = client.get("/spend/logs", headers=ADMIN).json()
    by = {(row["api_key"], row["model"]): row for row in rows}
    assert set(by) == {(alice["token"], "demo"), (alice["token"], "other"), (bob["token"], "demo")}
    assert by[(alice["token"], "demo")]["requests"] == 2
    assert by[(alice["token"], "demo")]["spend"] == pytest.approx(0.04)
    assert by[(alice["token"], "demo")]["total_tokens"] == 30
    only_bob = client.get("/spend/logs", params={"api_key": bob["key"]}, headers=ADMIN).json()
    assert [(r["api_key"], r["requests"]) for r in only_bob] == [(bob["token"], 1)]
    alices = client.get("/spend/logs", params={"user_id": "alice"}, headers=ADMIN).json()
    assert {r["api_key"] for r in alices} == {alice["token"]}
    assert {r["user"] for r in alices} == {"alice"}
    today = datetime.now(UTC).date().isoformat()
    window = client.get("/spend/logs", params={"start_date": today, "end_date": today}, headers=ADMIN).json()
    assert len(window) == 3
    assert window[0]["startTime"].startswith(today)
    assert client.get("/spend/logs", params={"end_date": "2001-01-01"}, headers=ADMIN).json() == []
    assert client.get("/spend/logs", params={"api_key": "sk-riq-unknown"}, headers=ADMIN).json() == []


def test_spend_logs_refuse_what_they_cannot_answer(client: TestClient[Litestar]) -> None:
    assert_error(
        client.get("/spend/logs", params={"request_id": "chatcmpl-1"}, headers=ADMIN), 400, "request_id"
    )
    assert_error(
        client.get("/spend/logs", params={"start_date": "last week"}, headers=ADMIN), 400, "start_date"
    )
    assert_error(client.get("/spend/logs", params={"end_date": "9999-12-31"}, headers=ADMIN), 400, "end_date")
    params = {"start_date": "2026-02-01", "end_date": "2026-01-01"}
    assert_error(client.get("/spend/logs", params=params, headers=ADMIN), 400, "start_date")
    assert_error(client.get("/spend/logs"), 401)


def test_openapi_document_describes_the_litellm_routes(client: TestClient[Litestar]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in (
        "/health",
        "/health/liveliness",
        "/health/liveness",
        "/health/readiness",
        "/key/generate",
        "/key/info",
        "/key/update",
        "/key/delete",
        "/key/regenerate",
        "/key/{key}/regenerate",
        "/team/new",
        "/team/info",
        "/spend/logs",
    ):
        assert path in paths, path
