"""Feedback end to end: `POST /v1/feedback` and `GET /admin/feedback` on a real `routeiq serve`.

A key scores its own calls by request id (the answer's ``X-Request-ID``) or by the answer's id; another
key's call answers 404 as a missing one does; the admin may score any call; bad bodies are 400s that
name the field; the evaluator plugin's scores land in the same store, joined to the call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow

MASTER = "sk-master-feedback-test"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
CONFIG = """
model_list:
  - model_name: demo
    litellm_params: {model: mock/demo, mock: {content: 'The capital of France is Paris.'}}
    model_info: {id: demo-a}
plugins: {enabled: [evaluator]}
observability: {request_log: {flush_interval_s: 0.2}}
"""
CHAT = {"model": "demo", "messages": [{"role": "user", "content": "What is the capital of France?"}]}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    keys = str(tmp_path_factory.mktemp("feedback") / "keys.db")
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": keys}
    with GatewayProcess(CONFIG, env=env) as gw:
        yield gw
        assert "Traceback" not in gw.log(), gw.log()


@pytest.fixture(scope="module")
def http(gateway: GatewayProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.base_url, timeout=10) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def issue(http: httpx.Client, **body: Any) -> str:
    r = http.post("/admin/keys", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def chat(http: httpx.Client, key: str) -> httpx.Response:
    r = http.post("/v1/chat/completions", json=CHAT, headers=bearer(key))
    assert r.status_code == 200, r.text
    return r


def test_a_key_scores_its_own_call_by_request_id_and_by_answer_id(http: httpx.Client) -> None:
    key = issue(http, team="red")
    answer = chat(http, key)
    request_id = answer.headers["x-request-id"]
    r = http.post(
        "/v1/feedback", json={"request_id": request_id, "score": 0.9, "comment": "good"}, headers=bearer(key)
    )
    assert r.status_code == 201, r.text
    record = r.json()
    assert record["request_id"] == request_id
    assert (record["score"], record["comment"], record["source"]) == (0.9, "good", "client")
    assert (record["model_group"], record["deployment_id"], record["team"]) == ("demo", "demo-a", "red")
    assert record["response_id"] == answer.json()["id"]

    second = chat(http, key)
    r = http.post(
        "/v1/feedback", json={"response_id": second.json()["id"], "label": "thumbs_down"}, headers=bearer(key)
    )
    assert r.status_code == 201, r.text
    assert r.json()["request_id"] == second.headers["x-request-id"]
    assert r.json()["score"] is None

    mine = http.get("/admin/feedback", params={"source": "client"}, headers=bearer(key)).json()["records"]
    assert {f["request_id"] for f in mine} == {request_id, second.headers["x-request-id"]}


def test_a_streamed_call_is_scored_by_the_id_its_chunks_carry(http: httpx.Client) -> None:
    key = issue(http)
    with http.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}, headers=bearer(key)) as r:
        assert r.status_code == 200
        lines = list(r.iter_lines())
        request_id = r.headers["x-request-id"]
    first = next(line for line in lines if line.startswith("data: {"))
    chunk_id = json.loads(first.removeprefix("data: "))["id"]
    fed = http.post("/v1/feedback", json={"response_id": chunk_id, "score": 0.5}, headers=bearer(key))
    assert fed.status_code == 201, fed.text
    assert fed.json()["request_id"] == request_id


def test_another_keys_call_is_not_found_but_the_admin_may_score_it(http: httpx.Client) -> None:
    owner, other = issue(http), issue(http)
    request_id = chat(http, owner).headers["x-request-id"]
    r = http.post("/v1/feedback", json={"request_id": request_id, "score": 0.1}, headers=bearer(other))
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "call_not_found"
    missing = http.post(
        "/v1/feedback", json={"request_id": "no-such-call", "score": 0.1}, headers=bearer(other)
    )
    assert missing.status_code == 404
    assert (
        missing.json()["error"]["message"].replace("no-such-call", request_id) == r.json()["error"]["message"]
    )
    r = http.post("/v1/feedback", json={"request_id": request_id, "score": 0.2}, headers=ADMIN)
    assert r.status_code == 201, r.text
    assert r.json()["submitted_by"] is None
    others = http.get("/admin/feedback", params={"request_id": request_id}, headers=bearer(other)).json()
    assert others["records"] == []  # a member reads its own key's feedback only


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"score": 0.5}, "request_id"),
        ({"request_id": "r"}, "score"),
        ({"request_id": "r", "score": 1.5}, "score"),
        ({"request_id": "r", "score": -0.1}, "score"),
        ({"request_id": "r", "label": "no spaces allowed"}, "label"),
        ({"request_id": "r" * 300, "score": 1}, "request_id"),
        ({"request_id": "r", "score": 1, "comment": "x" * 4_001}, "comment"),
    ],
)
def test_bad_feedback_is_a_400_naming_the_field(http: httpx.Client, body: dict[str, Any], param: str) -> None:
    r = http.post("/v1/feedback", json=body, headers=ADMIN)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param


def test_unknown_fields_non_json_and_huge_bodies_are_400s(http: httpx.Client) -> None:
    for content in (
        b'{"request_id": "r", "score": 1, "stars": 5}',
        b"not json",
        b"[1]",
        b"{" + b" " * 20_000 + b"}",
    ):
        r = http.post("/v1/feedback", content=content, headers={**ADMIN, "content-type": "application/json"})
        assert r.status_code == 400, (content[:40], r.text)
        assert r.json()["error"]["type"] == "invalid_request_error"


def test_no_key_is_a_401_and_a_viewer_may_not_submit(http: httpx.Client) -> None:
    assert http.post("/v1/feedback", json={"request_id": "r", "score": 1}).status_code == 401
    viewer = issue(http, role="viewer")
    assert (
        http.post("/v1/feedback", json={"request_id": "r", "score": 1}, headers=bearer(viewer)).status_code
        == 403
    )


def test_the_evaluators_scores_are_kept_joined_to_the_call(http: httpx.Client) -> None:
    key = issue(http)
    request_id = chat(http, key).headers["x-request-id"]
    r = http.get("/admin/feedback", params={"request_id": request_id, "source": "evaluator"}, headers=ADMIN)
    assert r.status_code == 200, r.text
    [scored] = r.json()["records"]
    assert scored["source"] == "evaluator"
    assert scored["score"] == 1.0  # the heuristic: a direct answer
    assert (scored["model_group"], scored["deployment_id"]) == ("demo", "demo-a")
    assert http.get("/admin/feedback", params={"source": "robot"}, headers=ADMIN).status_code == 400
