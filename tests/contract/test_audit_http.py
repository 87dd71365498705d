"""The audit log over HTTP: what admin changes leave behind, ``GET /admin/audit`` and its RBAC.

In process on a SQLite file; the multi-worker runs of the real ``routeiq serve`` are in
``test_audit_workers.py``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import TestClient

from routeiq_app import Container, create_app
from routeiq_app.settings import load_settings
from tests.support.gateway_process import clean_env

MASTER = "sk-master-audit-test"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
CONFIG = """
model_list:
  - model_name: demo
    litellm_params: {model: mock/demo}
"""


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "routeiq.yaml"
    path.write_text(
        CONFIG
        + f"keys: {{sqlite_path: {tmp_path / 'keys.db'}}}\n"
        + f"audit: {{checkpoint_copy_path: {tmp_path / 'copy.txt'}, checkpoint_every_entries: 4}}\n"
    )
    return path


@pytest.fixture
def container(config: Path) -> Container:
    container = Container()
    container.settings.override(
        providers.Object(load_settings(str(config), {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER}))
    )
    return container


@pytest.fixture
def client(container: Container) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(container), raise_server_exceptions=False) as c:
        yield c


def issue(client: TestClient[Litestar], headers: dict[str, str] = ADMIN, **body: object) -> str:
    r = client.post("/admin/keys", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def test_admin_changes_land_in_the_log_and_auditors_read_it(client: TestClient[Litestar]) -> None:
    assert client.post("/admin/teams", json={"team_id": "t1"}, headers=ADMIN).status_code == 201
    auditor = issue(client, role="auditor")
    member = client.post("/key/generate", json={"team_id": "t1"}, headers=ADMIN).json()
    assert client.post("/key/delete", json={"keys": [member["key"]]}, headers=ADMIN).status_code == 200
    page = client.get("/admin/audit", headers=bearer(auditor))
    assert page.status_code == 200, page.text
    body = page.json()
    actions = [e["event"]["action"] for e in body["entries"]]
    assert actions == ["config.load", "team.create", "key.issue", "key.issue", "key.revoke"]
    assert {e["event"]["source_ip"] for e in body["entries"][1:]} == {"testclient"}
    assert [e["seq"] for e in body["entries"]] == [0, 1, 2, 3, 4]
    assert body["entries"][2]["event"]["details"]["role"] == "auditor"
    assert body["checkpoint"]["size"] >= 4
    assert body["next_from"] is None
    keys = client.get("/admin/audit?action=key.*&from=3&limit=1", headers=bearer(auditor)).json()
    assert [e["seq"] for e in keys["entries"]] == [3]
    assert keys["next_from"] == 4
    assert client.get("/admin/audit?actor=nobody", headers=ADMIN).json()["entries"] == []
    note = client.get("/admin/audit/checkpoint", headers=bearer(auditor))
    assert note.status_code == 200
    assert note.headers["content-type"].startswith("text/plain")
    assert note.text.startswith("routeiq/audit\n")
    assert "\n\n\u2014 routeiq/audit " in note.text
    assert auditor not in page.text
    assert member["key"] not in page.text


def test_only_admins_and_auditors_read_the_log(client: TestClient[Litestar]) -> None:
    viewer = issue(client, role="viewer")
    team_admin = issue(client, role="team_admin", team="t1")
    for key in (viewer, team_admin, issue(client, role="member")):
        for path in ("/admin/audit", "/admin/audit/checkpoint"):
            r = client.get(path, headers=bearer(key))
            assert r.status_code == 403, (path, r.text)
            assert r.json()["error"]["code"] == "permission_denied"
    r = client.post("/admin/keys", json={"role": "auditor", "team": "t1"}, headers=bearer(team_admin))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "role_forbidden"
    auditor = issue(client, role="auditor")
    assert client.get("/admin/keys", headers=bearer(auditor)).status_code == 403  # reads the log only
    assert client.get("/admin/audit", headers=bearer("sk-riq-not-a-key")).status_code == 401
    assert client.get("/admin/audit?limit=0", headers=ADMIN).status_code == 400
    assert client.get("/admin/audit?from=-1", headers=ADMIN).status_code == 400


def test_refusals_become_bounded_summaries(client: TestClient[Litestar], container: Container) -> None:
    for n in range(30):
        client.get("/admin/keys", headers=bearer(f"sk-riq-bad-{n % 3}"))
        client.post("/v1/chat/completions", json={"model": "demo", "messages": []}, headers=bearer("nope"))
    viewer = issue(client, role="viewer")
    client.post("/admin/keys", json={}, headers=bearer(viewer))
    limited = issue(client, rpm=1)
    chat = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}
    statuses = [
        client.post("/v1/chat/completions", json=chat, headers=bearer(limited)).status_code for _ in range(3)
    ]
    assert statuses == [200, 429, 429]
    with client.portal() as portal:
        portal.call(container.audit_trail().flush)
    entries = client.get("/admin/audit?action=*", headers=ADMIN).json()["entries"]
    summaries = {
        e["event"]["action"]: e["event"]["details"] for e in entries if e["event"]["actor"] == "system"
    }
    assert summaries["auth.failure"]["total"] == 60
    assert summaries["auth.failure"]["groups"][0]["source_ip"] == "testclient"
    assert summaries["access.denied"]["groups"] == [
        {"actor": summaries["access.denied"]["groups"][0]["actor"], "action": "key.issue", "count": 1}
    ]
    assert summaries["quota.refusal"]["groups"] == [
        {"reason": "rate_limit_exceeded", "scope": "key", "model_group": "demo", "count": 2}
    ]


def test_the_log_written_over_http_verifies_offline(
    client: TestClient[Litestar], container: Container, config: Path, tmp_path: Path
) -> None:
    for role in ("member", "viewer", "auditor"):
        issue(client, role=role)
    with client.portal() as portal:
        portal.call(container.audit_trail().checkpoint)
    done = subprocess.run(
        [sys.executable, "-m", "routeiq_app.cli", "audit", "verify", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"ok":true' in done.stdout
    assert '"external_checkpoints":0' not in done.stdout  # the copy file was found through the config
    assert (tmp_path / "keys-audit.key").stat().st_mode & 0o777 == 0o600


def test_an_audit_log_that_is_off_answers_404(tmp_path: Path) -> None:
    container = Container()
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_AUDIT__ENABLED": "false"}
    settings = load_settings(None, {**env, "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "k.db")})
    container.settings.override(providers.Object(settings))
    with TestClient(create_app(container)) as client:
        assert issue(client)
        r = client.get("/admin/audit", headers=ADMIN)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "audit_disabled"
    assert not (tmp_path / "k-audit.db").exists()
