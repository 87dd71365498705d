"""The app's HTTP behaviour: request ids, CORS, error bodies, load shedding, health, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.params import JSONBody
from litestar.testing import TestClient

from routeiq_app.settings import ServerSettings, Settings
from routeiq_core import __version__
from routeiq_core.errors import RateLimitError


def error_of(response) -> dict:  # type: ignore[no-untyped-def, type-arg]
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]  # type: ignore[no-any-return]


class Echo(msgspec.Struct):
    model: str
    max_tokens: int


@post("/test/echo", sync_to_thread=False)
def echo(data: JSONBody[Echo]) -> Echo:
    return data


@get("/test/boom", sync_to_thread=False)
def boom() -> None:
    raise ZeroDivisionError("secret internals")


@get("/test/limited", sync_to_thread=False)
def limited() -> None:
    raise RateLimitError("slow down", headers={"Retry-After": "7"})


@pytest.fixture
def settings() -> Settings:
    return Settings(server=ServerSettings(cors_origins=["https://app.example"], max_concurrent_requests=2))


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    for handler in (echo, boom, limited):
        app.register(handler)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_request_id_generated_and_echoed(client: TestClient[Litestar]) -> None:
    r = client.get("/health/live")
    assert len(r.headers["x-request-id"]) == 32


def test_valid_incoming_request_id_is_honoured(client: TestClient[Litestar]) -> None:
    assert (
        client.get("/health/live", headers={"X-Request-ID": "abc-123.x"}).headers["x-request-id"]
        == "abc-123.x"
    )


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "semi;colon"])
def test_invalid_incoming_request_id_is_replaced(client: TestClient[Litestar], bad: str) -> None:
    rid = client.get("/health/live", headers={"X-Request-ID": bad}).headers["x-request-id"]
    assert rid != bad
    assert len(rid) == 32


def test_404_is_openai_style_with_request_id_and_cors(client: TestClient[Litestar]) -> None:
    r = client.get("/nope", headers={"Origin": "https://app.example"})
    assert r.status_code == 404
    assert r.headers["x-request-id"]
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    err = error_of(r)
    assert (err["type"], err["code"]) == ("invalid_request_error", "not_found")
    assert "/nope" in err["message"]


def test_405(client: TestClient[Litestar]) -> None:
    r = client.delete("/health/live")
    assert r.status_code == 405
    assert error_of(r)["code"] == "method_not_allowed"


def test_unhandled_exception_is_a_500_without_traceback(client: TestClient[Litestar]) -> None:
    r = client.get("/test/boom", headers={"X-Request-ID": "req-500"})
    assert r.status_code == 500
    assert r.headers["x-request-id"] == "req-500"
    err = error_of(r)
    assert "req-500" in err["message"]
    assert "secret internals" not in r.text
    assert "Traceback" not in r.text


def test_core_error_maps_status_type_and_headers(client: TestClient[Litestar]) -> None:
    r = client.get("/test/limited")
    assert (r.status_code, r.headers["retry-after"]) == (429, "7")
    assert error_of(r) == {
        "message": "slow down",
        "type": "rate_limit_error",
        "param": None,
        "code": "rate_limit_exceeded",
    }


def test_malformed_json_is_400(client: TestClient[Litestar]) -> None:
    r = client.post("/test/echo", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert error_of(r)["type"] == "invalid_request_error"


def test_wrong_field_type_is_400_naming_the_field(client: TestClient[Litestar]) -> None:
    r = client.post("/test/echo", json={"model": "m", "max_tokens": "many"})
    assert r.status_code == 400
    err = error_of(r)
    assert "max_tokens" in err["message"]


def test_cors_preflight(client: TestClient[Litestar]) -> None:
    r = client.options(
        "/v1/chat/completions",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code in (200, 204)
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert r.headers["x-request-id"]


def test_shed_request_gets_503_with_headers_and_never_reaches_a_handler(
    client: TestClient[Litestar], app: Litestar
) -> None:
    limiter = app.state.container.limiter()
    limiter.in_flight = limiter.limit  # every slot busy
    r = client.get("/test/boom", headers={"Origin": "https://app.example", "X-Request-ID": "shed-1"})
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert r.headers["x-request-id"] == "shed-1"
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert error_of(r)["code"] == "overloaded"
    assert limiter.shed == 1
    # health routes are exempt from shedding
    assert client.get("/health/live").status_code == 200
    limiter.in_flight = 0


def test_slots_are_released_after_responses(client: TestClient[Litestar], app: Litestar) -> None:
    for _ in range(5):
        client.get("/test/limited")
    limiter = app.state.container.limiter()
    assert (limiter.in_flight, limiter.admitted) == (0, 5)


def test_ready_reports_version_and_components(client: TestClient[Litestar]) -> None:
    r = client.get("/health/ready")
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["version"], body["phase"]) == ("degraded", __version__, "ready")
    deployments = next(c for c in body["components"] if c["name"] == "deployments")
    assert deployments["reason"] == "no model groups are configured"


def test_ready_is_503_when_draining(client: TestClient[Litestar], app: Litestar) -> None:
    app.state.container.lifecycle().mark_draining()
    r = client.get("/health/ready")
    assert r.status_code == 503
    assert r.json()["status"] == "down"


def test_openapi_reports_the_version(client: TestClient[Litestar]) -> None:
    assert client.get("/schema/openapi.json").json()["info"]["version"] == __version__


def test_draining_refuses_new_requests_with_503_but_not_health(
    client: TestClient[Litestar], app: Litestar
) -> None:
    app.state.container.lifecycle().mark_draining()
    r = client.get("/test/limited", headers={"Origin": "https://app.example", "X-Request-ID": "d-1"})
    assert r.status_code == 503
    assert (r.headers["retry-after"], r.headers["connection"], r.headers["x-request-id"]) == (
        "1",
        "close",
        "d-1",
    )
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert error_of(r)["code"] == "shutting_down"
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 503


def test_retiring_worker_serves_but_closes_connections(client: TestClient[Litestar], app: Litestar) -> None:
    app.state.container.lifecycle().mark_retiring()
    r = client.get("/test/limited")
    assert r.status_code == 429  # served as usual
    assert r.headers["connection"] == "close"
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["phase"] == "retiring"
