"""The wire checks of a POST: era by header, JSON-RPC shape, the current era's envelope and headers."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from routeiq_app.surfaces.mcp.envelope import check_envelope, check_message, era_of
from routeiq_app.surfaces.mcp.wire import (
    HEADER_MISMATCH,
    INVALID_PARAMS,
    INVALID_REQUEST,
    UNSUPPORTED_VERSION,
    Headers,
    JsonRpcError,
    accepts,
    decode_message,
    header_value,
    read_headers,
    with_fields,
)

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


def message(**fields: Any) -> Any:
    return decode_message(msgspec.json.encode({"jsonrpc": "2.0", **fields}))


def code_of(call: Any, *args: Any) -> int:
    with pytest.raises(JsonRpcError) as raised:
        call(*args)
    assert raised.value.status == 400
    return raised.value.code


@pytest.mark.parametrize(
    ("version", "era"),
    [(None, "legacy"), ("2025-11-25", "legacy"), ("2025-06-18", "legacy"), ("2025-03-26", "legacy"),
     ("2026-07-28", "current")],
)  # fmt: skip
def test_the_era_follows_the_version_header(version: str | None, era: str) -> None:
    assert era_of(Headers(version=version)) == era


def test_an_unknown_version_names_the_supported_ones() -> None:
    with pytest.raises(JsonRpcError) as raised:
        era_of(Headers(version="2099-01-01"))
    assert raised.value.code == UNSUPPORTED_VERSION
    assert raised.value.status == 400
    assert "2026-07-28" in raised.value.data["supported"]
    assert raised.value.data["requested"] == "2099-01-01"


def test_a_repeated_routing_header_is_a_mismatch() -> None:
    headers = read_headers([(b"Mcp-Method", b"tools/list"), (b"mcp-method", b"tools/call")])
    assert code_of(era_of, headers) == HEADER_MISMATCH


@pytest.mark.parametrize(
    "fields",
    [{"jsonrpc": "1.0", "id": 1, "method": "ping"}, {"id": True, "method": "ping"}, {"id": 1},
     {"id": 1, "method": 5}, {"id": [1], "method": "ping"}, {"method": ""}],
)  # fmt: skip
def test_malformed_messages_are_invalid_requests(fields: dict[str, Any]) -> None:
    raw = decode_message(msgspec.json.encode({"jsonrpc": "2.0", **fields}))
    assert code_of(check_message, raw) == INVALID_REQUEST


def test_params_must_be_an_object() -> None:
    assert code_of(check_message, message(id=1, method="ping", params=[1])) == INVALID_PARAMS


def test_requests_notifications_and_responses_pass() -> None:
    check_message(message(id=1, method="ping"))
    check_message(message(id="a", method="tools/list", params={}))
    check_message(message(method="notifications/initialized"))
    check_message(message(id="relayed", result={}))


def current(method: str, name: str | None = None, **overrides: Any) -> Headers:
    return Headers(version="2026-07-28", method=method, name=name, **overrides)


def test_a_matching_envelope_passes() -> None:
    body = message(id=1, method="tools/call", params={"name": "a__b", "_meta": META})
    check_envelope(body, current("tools/call", "a__b"))


@pytest.mark.parametrize(
    ("params", "headers", "code"),
    [
        ({"name": "a__b"}, current("tools/call", "a__b"), INVALID_PARAMS),
        ({"name": "a__b", "_meta": {}}, current("tools/call", "a__b"), INVALID_PARAMS),
        ({"name": "a__b", "_meta": META}, current("tools/list", "a__b"), HEADER_MISMATCH),
        ({"name": "a__b", "_meta": META}, current("tools/call", "a__c"), HEADER_MISMATCH),
        ({"name": "a__b", "_meta": META}, current("tools/call", None), HEADER_MISMATCH),
        (
            {"name": "a__b", "_meta": {**META, "io.modelcontextprotocol/protocolVersion": "2025-11-25"}},
            current("tools/call", "a__b"),
            HEADER_MISMATCH,
        ),
    ],
)
def test_envelope_and_header_mismatches(params: dict[str, Any], headers: Headers, code: int) -> None:
    assert code_of(check_envelope, message(id=1, method="tools/call", params=params), headers) == code


def test_resources_read_checks_the_uri_header() -> None:
    body = message(id=1, method="resources/read", params={"uri": "d+file:///x", "_meta": META})
    check_envelope(body, current("resources/read", "d+file:///x"))
    assert code_of(check_envelope, body, current("resources/read", "d+file:///y")) == HEADER_MISMATCH


def test_base64_header_values_are_decoded() -> None:
    assert header_value("=?base64?w6lsw6hu?=") == "élèn"
    assert header_value("=?base64?!!?=") is None
    assert header_value("plain") == "plain"
    headers = read_headers([(b"mcp-name", b"=?base64?w6lsw6hu?="), (b"Mcp-Param-Region", b"eu")])
    assert headers.name == "élèn"
    assert headers.params == {"Mcp-Param-Region": "eu"}


@pytest.mark.parametrize(
    ("accept", "media", "ok"),
    [("application/json, text/event-stream", "text/event-stream", True), ("*/*", "application/json", True),
     ("text/*", "text/event-stream", True), ("application/json", "text/event-stream", False),
     ("", "application/json", True), ("text/html", "application/json", False)],
)  # fmt: skip
def test_accept_negotiation(accept: str, media: str, ok: bool) -> None:
    assert accepts(accept, media) is ok


def test_result_fields_are_added_without_touching_the_rest() -> None:
    assert msgspec.json.decode(with_fields(b'{"a":{"b":[1]}}', resultType="complete")) == {
        "resultType": "complete",
        "a": {"b": [1]},
    }
    assert with_fields(b"{}", resultType="complete") == b'{"resultType":"complete"}'
    kept = b'{"resultType":"input_required"}'
    assert with_fields(kept, resultType="complete") == kept


def test_forced_fields_replace_the_upstreams() -> None:
    shared = b'{"contents":[],"cacheScope":"public","ttlMs":5000}'
    assert msgspec.json.decode(with_fields(shared, force={"cacheScope": "private"}, ttlMs=0)) == {
        "contents": [],
        "cacheScope": "private",
        "ttlMs": 5000,
    }
    assert msgspec.json.decode(with_fields(b'{"contents":[]}', force={"cacheScope": "private"}, ttlMs=0)) == {
        "contents": [],
        "cacheScope": "private",
        "ttlMs": 0,
    }
