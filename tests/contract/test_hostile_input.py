"""Hostile and absurd input against a real `routeiq serve` process: a clear 4xx, never a 500.

Each case is sent over a real socket; each answer must have the right status, an OpenAI-style error
body and an ``X-Request-ID``; the server's log must hold no traceback, and it must keep serving.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.gateway_process import GatewayProcess

MASTER = "sk-hostile-master-key-0123456789"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
CONFIG = """
model_list:
  - model_name: demo
    litellm_params: {model: mock/demo, mock: {prompt_tokens: 10, completion_tokens: 5}}
    model_info: {input_price_per_mtok: 1000, output_price_per_mtok: 2000}
  - model_name: embed
    litellm_params: {model: mock/embed}
"""
CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}
CALL_PATHS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    keys = str(tmp_path_factory.mktemp("hostile") / "keys.db")
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": keys}
    with GatewayProcess(CONFIG, env=env) as gw:
        yield gw
        assert "Traceback" not in gw.log(), gw.log()


def post(gw: GatewayProcess, path: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        gw.base_url + path,
        content=body,
        headers={"content-type": "application/json", **ADMIN, **(headers or {})},
        timeout=10,
    )


def assert_clear_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["x-request-id"]
    error: dict[str, Any] = r.json()["error"]
    assert error["message"]
    assert error["type"]
    assert "Traceback" not in error["message"]
    return error


def nested(depth: int) -> bytes:
    return (
        b'{"model": "demo", "messages": [{"role": "user", "content": ' + b"[" * depth + b"]" * depth + b"}]}"
    )


@pytest.mark.parametrize("path", [*CALL_PATHS, "/admin/keys"])
@pytest.mark.parametrize("depth", [70, 500, 1000, 20_000])
def test_deep_nesting_is_a_400_on_every_route_with_or_without_a_key(
    gateway: GatewayProcess, path: str, depth: int
) -> None:
    body = nested(depth) if path != "/admin/keys" else b'{"metadata": ' + b"[" * depth + b"]" * depth + b"}"
    assert "levels" in assert_clear_error(post(gateway, path, body), 400)["message"]
    unauthenticated = httpx.post(gateway.base_url + path, content=body, timeout=10)
    assert unauthenticated.status_code in (400, 401)  # never a 500 (the body may be read first on admin)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"model": "demo", "messages": [], "a": 1e999999}', "Number out of range"),
        (b'{"model": "demo", "messages": [{"role": "user", "content": "\\ud800"}]}', "surrogate"),
        (b'{"model": "demo", "messages": [{"role": "user", "content": "\xff"}]}', "UTF-8"),
        (b"[]", "must be a JSON object"),
        (b"", "empty"),
        (b"{", "truncated"),
        (
            b'{"model": "demo", "messages": [{"role": "user"}], "max_tokens": 100000000000000000000}',
            "max_tokens",
        ),
        (b'{"model": "demo", "messages": [{"role": "user"}], "max_tokens": 1e29}', "max_tokens"),
        (b'{"model": "demo", "messages": [{"role": "user"}], "temperature": "hot"}', "temperature"),
    ],
)
def test_malformed_or_absurd_bodies_say_what_is_wrong(
    gateway: GatewayProcess, body: bytes, says: str
) -> None:
    assert says in assert_clear_error(post(gateway, "/v1/chat/completions", body), 400)["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"budget": {"max_spend": -5}},
        {"budget": {"max_spend": 1e300}},
        {"rpm": 0.5},
        {"tpm": 1e30},
        {"metadata": "not an object"},
    ],
)
def test_absurd_key_settings_are_a_400(gateway: GatewayProcess, body: dict[str, Any]) -> None:
    r = httpx.post(gateway.base_url + "/admin/keys", json=body, headers=ADMIN, timeout=10)
    assert_clear_error(r, 400)


@pytest.mark.parametrize("bound", ["nan", "inf", "9e92", "-1"])
def test_absurd_spend_report_bounds_are_a_400(gateway: GatewayProcess, bound: str) -> None:
    r = httpx.get(gateway.base_url + "/admin/spend", params={"since": bound}, headers=ADMIN, timeout=10)
    assert_clear_error(r, 400)


def raw_exchange(gw: GatewayProcess, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/admin/keys"])
def test_a_malformed_chunked_body_is_a_4xx_not_a_500(gateway: GatewayProcess, path: str) -> None:
    request = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {MASTER}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    ).encode()
    answer = raw_exchange(gateway, request)
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line == b"" or status_line.split()[1].startswith(b"4"), answer[:300]


def test_the_server_still_serves_after_all_of_it(gateway: GatewayProcess) -> None:
    r = httpx.post(gateway.base_url + "/v1/chat/completions", json=CHAT, headers=ADMIN, timeout=10)
    assert r.status_code == 200, r.text
    assert httpx.get(gateway.base_url + "/health/ready", timeout=5).status_code == 200
