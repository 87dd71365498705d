"""Keys, RBAC, policy, quotas and spend on the real HTTP path (in process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from routeiq_core.access import KeyPatch

MASTER = "sk-master-test-key"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
CONFIG = """
model_list:
  - model_name: demo
    litellm_params: {model: mock/demo, mock: {prompt_tokens: 10, completion_tokens: 5}}
    model_info: {input_price_per_mtok: 1000, output_price_per_mtok: 2000}
  - model_name: other
    litellm_params: {model: mock/other}
policy:
  default: allow
  rules:
    - name: no-long-answers-for-t2
      match: {teams: [t2], max_tokens: {min: 1000}}
      action: deny
      reason: team t2 may not ask for 1000+ tokens
"""
CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}


def make_app(tmp_path: Path) -> Litestar:
    """An app on the key store (and spend ledger) files in ``tmp_path``; two of them act as two workers."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db")}
    container = Container()
    container.settings.override(providers.Object(load_settings(str(cfg), env)))
    return create_app(container)


@pytest.fixture
def app(tmp_path: Path) -> Litestar:
    return make_app(tmp_path)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def issue(client: TestClient[Litestar], **body: object) -> str:
    r = client.post("/admin/keys", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    assert r.json()["key"].startswith("sk-riq-")
    return str(r.json()["key"])


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_rpm_limit_of_a_key_is_enforced_with_retry_after(client: TestClient[Litestar]) -> None:
    key = issue(client, rpm=2, models=["demo"], team="t1")
    assert [
        client.post("/v1/chat/completions", json=CHAT, headers=bearer(key)).status_code for _ in range(2)
    ] == [
        200,
        200,
    ]
    refused = client.post("/v1/chat/completions", json=CHAT, headers=bearer(key))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert "requests" in error["message"]
    assert "minute" in error["message"]


def test_budget_stops_spending(client: TestClient[Litestar]) -> None:
    # each call costs (10 * 1000 + 5 * 2000) / 1e6 = 0.02, reserved ahead from max_tokens
    key = issue(client, budget={"max_spend": 0.05, "window": "day"})
    body = {**CHAT, "max_tokens": 5}
    codes = [
        client.post("/v1/chat/completions", json=body, headers=bearer(key)).status_code for _ in range(4)
    ]
    assert codes[:2] == [200, 200]
    assert codes[-1] == 429
    last = client.post("/v1/chat/completions", json=body, headers=bearer(key))
    assert last.json()["error"]["code"] == "budget_exceeded"
    spend = client.get("/admin/spend", headers=ADMIN).json()
    assert spend["total"]["cost"] <= 0.05 + 1e-9


def test_model_allow_list_and_models_listing(client: TestClient[Litestar]) -> None:
    key = issue(client, models=["demo"])
    r = client.post("/v1/chat/completions", json={**CHAT, "model": "other"}, headers=bearer(key))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "model_not_allowed")
    ids = [m["id"] for m in client.get("/v1/models", headers=bearer(key)).json()["data"]]
    assert ids == ["demo"]


def test_401_vs_403_and_rbac_on_admin_routes(client: TestClient[Litestar]) -> None:
    member = issue(client, team="t1")
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 401
    assert client.post("/v1/chat/completions", json=CHAT, headers=bearer("sk-riq-nope")).status_code == 401
    assert client.get("/admin/keys", headers=bearer(member)).status_code == 403
    assert client.post("/admin/keys", json={}, headers=bearer(member)).status_code == 403
    assert client.get("/admin/deployments", headers=bearer(member)).status_code == 403
    assert client.get("/admin/keys", headers=ADMIN).status_code == 200


def test_team_admin_is_confined_to_its_team(client: TestClient[Litestar]) -> None:
    team_admin = issue(client, role="team_admin", team="t1")
    issue(client, team="t2")
    mine = client.post("/admin/keys", json={"rpm": 5}, headers=bearer(team_admin))
    assert (mine.status_code, mine.json()["team"]) == (201, "t1")
    assert client.post("/admin/keys", json={"team": "t2"}, headers=bearer(team_admin)).status_code == 403
    assert client.post("/admin/keys", json={"role": "admin"}, headers=bearer(team_admin)).status_code == 403
    listed = client.get("/admin/keys", headers=bearer(team_admin)).json()["data"]
    assert {k["team"] for k in listed} == {"t1"}


def test_revoked_and_rotated_keys_are_refused(client: TestClient[Litestar]) -> None:
    key = issue(client)
    key_id = client.get("/admin/keys", headers=ADMIN).json()["data"][0]["key_id"]
    rotated = client.post(f"/admin/keys/{key_id}/rotate", headers=ADMIN).json()["key"]
    assert client.post("/v1/chat/completions", json=CHAT, headers=bearer(key)).status_code == 401
    assert client.post("/v1/chat/completions", json=CHAT, headers=bearer(rotated)).status_code == 200
    assert client.delete(f"/admin/keys/{key_id}", headers=ADMIN).status_code == 200
    assert client.post("/v1/chat/completions", json=CHAT, headers=bearer(rotated)).status_code == 401


def test_identity_never_comes_from_headers_or_the_query_string(client: TestClient[Litestar]) -> None:
    key = issue(client, team="t1")
    spoofed = {**bearer(key), "x-user-id": "admin", "x-team-id": "t2"}
    assert client.get("/admin/keys", headers=spoofed).status_code == 403
    assert client.post(f"/v1/chat/completions?api_key={MASTER}", json=CHAT).status_code == 401


def test_keys_are_stored_hashed_and_listed_without_secrets(
    client: TestClient[Litestar], tmp_path: Path
) -> None:
    key = issue(client)
    listed = client.get("/admin/keys", headers=ADMIN).text
    assert key not in listed
    assert key.encode() not in (tmp_path / "keys.db").read_bytes()


def test_policy_deny_and_explain(client: TestClient[Litestar]) -> None:
    t2 = issue(client, team="t2")
    denied = client.post("/v1/chat/completions", json={**CHAT, "max_tokens": 2000}, headers=bearer(t2))
    assert denied.status_code == 403
    assert "1000+ tokens" in denied.json()["error"]["message"]
    assert (
        client.post("/v1/chat/completions", json={**CHAT, "max_tokens": 10}, headers=bearer(t2)).status_code
        == 200
    )
    explained = client.post(
        "/admin/policy/explain", json={"body": {**CHAT, "max_tokens": 2000}, "as_key": t2}, headers=ADMIN
    )
    assert explained.status_code == 200, explained.text
    body = explained.json()
    assert body["decision"]["allowed"] is False
    assert body["decision"]["rule"] == "no-long-answers-for-t2"


def test_authentication_comes_before_the_body_is_read_as_a_request(client: TestClient[Litestar]) -> None:
    bodies = [b"{not json", b'{"model": 5, "messages": "x"}', b"[]", b"", b'{"model": "demo"}']
    for body in bodies:
        r = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 401, (body, r.text)
        assert r.json()["error"]["type"] == "authentication_error"
        assert "messages" not in r.text  # nothing about the body's fields before the caller is known
        assert "Authorization: Bearer <key>" in r.json()["error"]["message"]  # the HTTP surface's hint
    viewer = issue(client, role="viewer")
    forbidden = client.post("/v1/chat/completions", content=b"{not json", headers=bearer(viewer))
    assert forbidden.status_code == 403  # known but not allowed to call: still nothing about the body
    member = issue(client)
    bad = client.post("/v1/chat/completions", content=b'{"model": "demo"}', headers=bearer(member))
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "messages"


def test_an_answer_says_what_it_cost(client: TestClient[Litestar]) -> None:
    key = issue(client, team="t8")
    r = client.post("/v1/chat/completions", json=CHAT, headers=bearer(key))
    assert r.status_code == 200
    assert float(r.headers["x-routeiq-cost"]) == pytest.approx((10 * 1000 + 5 * 2000) / 1e6)
    spend = client.get("/admin/spend", params={"team": "t8"}, headers=ADMIN).json()
    assert spend["total"]["cost"] == pytest.approx(float(r.headers["x-routeiq-cost"]))


def test_streaming_is_settled_at_stream_end(client: TestClient[Litestar]) -> None:
    key = issue(client, team="t9")
    with client.stream(
        "POST", "/v1/chat/completions", json={**CHAT, "stream": True}, headers=bearer(key)
    ) as r:
        assert r.status_code == 200
        "".join(r.iter_text())
    spend = client.get("/admin/spend", params={"team": "t9"}, headers=ADMIN).json()
    assert spend["total"]["requests"] == 1
    assert spend["total"]["completion_tokens"] == 5


def test_spend_is_shared_by_workers_on_one_database(tmp_path: Path) -> None:
    """Two apps (two workers) on one SQLite key store: /admin/spend on either reports both's calls."""
    with (
        TestClient(make_app(tmp_path), raise_server_exceptions=False) as one,
        TestClient(make_app(tmp_path), raise_server_exceptions=False) as two,
    ):
        key = issue(one, team="t1")
        for client in (one, two, two):
            assert client.post("/v1/chat/completions", json=CHAT, headers=bearer(key)).status_code == 200
        # A report flushes its own worker's buffer first: the first one writes two's calls, whatever
        # the background flushers have done meanwhile; then each report includes every worker's.
        assert two.get("/admin/spend", headers=ADMIN).json()["total"]["requests"] >= 2
        for client in (one, two):
            spend = client.get("/admin/spend", headers=ADMIN).json()
            assert spend["total"]["requests"] == 3
            assert spend["total"]["prompt_tokens"] == 30
            assert spend["total"]["cost"] == pytest.approx(0.06)
            assert spend["by_team"]["t1"]["requests"] == 3
            assert [totals["requests"] for totals in spend["by_key"].values()] == [3]
    assert (tmp_path / "keys-spend.db").exists()


def test_teams_admin_api(client: TestClient[Litestar]) -> None:
    created = client.post(
        "/admin/teams", json={"team_id": "t7", "models": ["demo"], "rpm": 100}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    assert created.json()["limits"] == {"requests_per_minute": 100}
    assert client.post("/admin/teams", json={"team_id": "t7"}, headers=ADMIN).status_code == 409
    assert client.post("/admin/teams", json={"team_id": "Bad Id"}, headers=ADMIN).status_code == 400
    team_admin = issue(client, role="team_admin", team="t7")
    assert client.get("/admin/teams/t7", headers=bearer(team_admin)).status_code == 200
    client.post("/admin/teams", json={"team_id": "t8"}, headers=ADMIN)
    assert client.get("/admin/teams/t8", headers=bearer(team_admin)).status_code == 403
    assert client.post("/admin/teams", json={"team_id": "t9"}, headers=bearer(team_admin)).status_code == 403
    patched = client.patch("/admin/teams/t7", json={"alias": "Seven"}, headers=ADMIN)
    assert patched.json()["alias"] == "Seven"
    assert client.delete("/admin/teams/t8", headers=ADMIN).json()["deleted_at"] is not None
    assert [t["team_id"] for t in client.get("/admin/teams", headers=ADMIN).json()["data"]] == ["t7"]


def test_a_team_record_limits_its_keys(client: TestClient[Litestar]) -> None:
    assert (
        client.post(
            "/admin/teams", json={"team_id": "tl", "rpm": 2, "models": ["demo"]}, headers=ADMIN
        ).status_code
        == 201
    )
    a, b = issue(client, team="tl"), issue(client, team="tl")
    codes = [client.post("/v1/chat/completions", json=CHAT, headers=bearer(k)).status_code for k in (a, b, a)]
    assert codes == [200, 200, 429]  # the team's rpm covers both keys
    other = client.post("/v1/chat/completions", json={**CHAT, "model": "other"}, headers=bearer(b))
    assert (other.status_code, other.json()["error"]["code"]) == (403, "model_not_allowed")


def test_keys_of_a_deleted_team_are_refused(client: TestClient[Litestar]) -> None:
    client.post("/admin/teams", json={"team_id": "gone"}, headers=ADMIN)
    key = issue(client, team="gone")
    client.delete("/admin/teams/gone", headers=ADMIN)
    r = client.post("/v1/chat/completions", json=CHAT, headers=bearer(key))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "team_deleted")
    refused = client.post("/admin/keys", json={"team": "gone"}, headers=ADMIN)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "team_deleted")
    assert refused.json()["error"]["param"] == "team"
    assert client.post("/admin/keys", json={"team": "just-a-label"}, headers=ADMIN).status_code == 201


def test_team_less_readers_see_only_their_own_keys_spend(client: TestClient[Litestar]) -> None:
    member = issue(client, team="t1")
    assert client.post("/v1/chat/completions", json=CHAT, headers=bearer(member)).status_code == 200
    for role in ("viewer", "team_admin"):
        reader = issue(client, role=role)  # no team
        seen = client.get("/admin/spend", headers=bearer(reader))
        assert seen.status_code == 200, seen.text
        assert seen.json()["total"]["requests"] == 0
        assert "t1" not in seen.json()["by_team"]
        asked = client.get("/admin/spend", params={"team": "t1"}, headers=bearer(reader)).json()
        assert asked["total"]["requests"] == 0  # asking for another team does not widen the scope
    everything = client.get("/admin/spend", headers=ADMIN).json()
    assert everything["by_team"]["t1"]["requests"] >= 1


@pytest.mark.parametrize("bound", ["nan", "inf", "-inf", "9e92", "-1", "1e300"])
def test_spend_report_bounds_are_checked(client: TestClient[Litestar], bound: str) -> None:
    for name in ("since", "until"):
        r = client.get("/admin/spend", params={name: bound}, headers=ADMIN)
        assert r.status_code == 400, (name, bound, r.text)
        assert r.json()["error"]["param"] == name


@pytest.mark.parametrize(
    "body",
    [
        {"budget": {"max_spend": -5}},
        {"budget": {"max_spend": 1e300}},
        {"rpm": 0.5},
        {"tpm": 1e30},
        {"spend_per_month": -1},
    ],
)
def test_out_of_range_limits_are_refused_when_issued_or_patched(
    client: TestClient[Litestar], body: dict[str, object]
) -> None:
    r = client.post("/admin/keys", json=body, headers=ADMIN)
    assert r.status_code == 400, r.text
    assert "from 0 to" in r.json()["error"]["message"] or "whole number" in r.json()["error"]["message"]
    key_id = client.post("/admin/keys", json={}, headers=ADMIN).json()["key_id"]
    patched = client.patch(f"/admin/keys/{key_id}", json=body, headers=ADMIN)
    assert patched.status_code == 400, patched.text
    team_id = "team-" + "".join(c for c in str(sorted(body)) if c.isalnum()).lower()
    team = client.post("/admin/teams", json={"team_id": team_id, **body}, headers=ADMIN)
    assert team.status_code == 400, team.text


def test_an_absurd_max_tokens_is_a_400(client: TestClient[Litestar]) -> None:
    key = issue(client, tpm=1000)
    for field in ("max_tokens", "max_completion_tokens"):
        r = client.post("/v1/chat/completions", json={**CHAT, field: 10**29}, headers=bearer(key))
        assert r.status_code == 400, r.text
        assert r.json()["error"]["param"] == "max_tokens"
    assert (
        client.post("/v1/chat/completions", json={**CHAT, "max_tokens": 10}, headers=bearer(key)).status_code
        == 200
    )


def test_a_stored_out_of_range_budget_refuses_calls_instead_of_failing_them(app: Litestar) -> None:
    with TestClient(app, raise_server_exceptions=False) as c:
        key = issue(c)
        key_id = c.get("/admin/keys", headers=ADMIN).json()["data"][0]["key_id"]
        store = app.state.container.key_store()
        patch = msgspec.convert({"budget": {"max_spend": -5}}, KeyPatch)
        with c.portal() as portal:
            portal.call(store.update, key_id, patch, 1.0)  # written by an older version, unchecked
        app.state.container.cached_keys().invalidate(key_id)
        r = c.post("/v1/chat/completions", json=CHAT, headers=bearer(key))
        assert r.status_code == 429, r.text  # a budget of nothing: refused, never a 500
        assert r.json()["error"]["code"] == "budget_exceeded"
