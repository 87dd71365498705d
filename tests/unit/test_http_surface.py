"""What HTTP surfaces read from headers: the bearer key, the client's address, routing hints."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from routeiq_app.surfaces.http import (
    HttpRequestReader,
    bearer_token,
    client_ip,
    parse_networks,
    result_headers,
)
from routeiq_core.access import Authenticator, KeyHasher, KeyService, NewKey, Principal
from routeiq_core.context import CallContext, RoutedChoice, RouteDecision
from routeiq_core.errors import AuthenticationError
from tests.support.stores import DictKeyStore

TRUSTED = parse_networks(["10.0.0.0/8", "fd00::/8"])
READER = HttpRequestReader(TRUSTED)


def scope(
    headers: dict[str, str] | list[tuple[str, str]], peer: str | None = "203.0.113.7"
) -> dict[str, Any]:
    pairs = headers.items() if isinstance(headers, dict) else headers
    return {
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs],
        "client": (peer, 4711) if peer else None,
    }


def test_identity_headers_are_ignored() -> None:
    store, hasher = DictKeyStore(), KeyHasher("server-secret-0123456789")
    auth = Authenticator(store=store, hasher=hasher, master_key="sk-master-0123456789abcdef")

    async def main() -> None:
        issued = await KeyService(store, hasher).issue(
            Principal.admin(), NewKey(team="t1", user="u1", role="viewer")
        )
        headers = {
            "Authorization": f"Bearer {issued.key}",
            "x-user-id": "admin",
            "x-team-id": "t2",
            "x-role": "admin",
            "x-litellm-api-key": "sk-master-0123456789abcdef",
        }
        principal = await auth.identify(READER.credentials(scope(headers)).token)
        assert (principal.user, principal.team, principal.role) == ("u1", "t1", "viewer")
        without = {k: v for k, v in headers.items() if k not in ("Authorization", "x-litellm-api-key")}
        with pytest.raises(AuthenticationError):  # identity headers alone authenticate nobody
            await auth.identify(READER.credentials(scope(without)).token)
        litellm_only = {**without, "x-litellm-api-key": issued.key}  # LiteLLM's key header is a key header
        principal = await auth.identify(READER.credentials(scope(litellm_only)).token)
        assert (principal.user, principal.team, principal.role) == ("u1", "t1", "viewer")

    anyio.run(main)


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None


@pytest.mark.parametrize(
    ("xff", "peer", "expected"),
    [
        (None, "203.0.113.7", "203.0.113.7"),
        ("1.2.3.4", "203.0.113.7", "203.0.113.7"),  # untrusted peer: its XFF is ignored
        ("198.51.100.9", "10.0.0.2", "198.51.100.9"),  # one trusted proxy
        ("198.51.100.9, 10.0.0.5", "10.0.0.2", "198.51.100.9"),  # two trusted hops
        ("6.6.6.6, 198.51.100.9", "10.0.0.2", "198.51.100.9"),  # client-forged left entry ignored
        ("10.0.0.9, 10.0.0.5", "10.0.0.2", "10.0.0.9"),  # all trusted: the farthest
        ("not-an-ip, 10.0.0.5", "10.0.0.2", "10.0.0.5"),  # garbage stops at the last trusted hop
        ("198.51.100.9:4711", "10.0.0.2", "198.51.100.9"),
        ("2001:db8::1", "fd00::2", "2001:db8::1"),
        (None, "10.0.0.2", "10.0.0.2"),
    ],
)
def test_client_ip_honours_xff_only_from_trusted_proxies(xff: str | None, peer: str, expected: str) -> None:
    headers = {"X-Forwarded-For": xff} if xff else {}
    assert READER.credentials(scope(headers, peer)).client_address == expected


def test_client_ip_joins_repeated_headers_and_handles_unknown_peers() -> None:
    pairs = [("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.9")]
    assert READER.credentials(scope(pairs, "10.0.0.2")).client_address == "198.51.100.9"
    assert READER.credentials(scope({}, None)).client_address is None
    assert client_ip(["1.1.1.1"], "unix-socket", TRUSTED) == "unix-socket"
    with pytest.raises(ValueError, match="nope"):
        parse_networks(["10.0.0.0/8", "nope"])


def test_routing_hints_come_from_routeiq_headers_in_any_case() -> None:
    headers = {
        "X-RouteIQ-Tags": " eu , fast,,",
        "x-routeiq-conversation-id": "conv-1",
        "X-Routeiq-Cost-Weight": "0.5",
        "AUTHORIZATION": "Bearer sk-riq-abc",
    }
    credentials, hints = READER.read(scope(headers))
    assert credentials.token == "sk-riq-abc"
    assert (hints.tags, hints.conversation_id, hints.cost_weight) == (("eu", "fast"), "conv-1", "0.5")
    _, none = READER.read(scope({}))
    assert (none.tags, none.conversation_id, none.cost_weight) == ((), None, None)


def test_result_headers_describe_the_outcome_and_survive_any_text() -> None:
    ctx = CallContext(
        route=RouteDecision(model_group="grüße", deployment_id="d-1", strategy="rr", attempts=2),
        routed=RoutedChoice(router="auto", model_group="strong", reason="predicted quality 0.9 — best"),
        cost=0.00125,
        response_headers={"X-RouteIQ-Cache": "hit", "x-note": "日本"},
    )
    headers = dict(result_headers(ctx, with_cost=True))
    assert headers[b"x-routeiq-model-group"] == "grüße".encode("latin-1")
    assert headers[b"x-routeiq-attempts"] == b"2"
    assert headers[b"x-routeiq-cost"] == b"0.00125"
    assert headers[b"x-routeiq-router-choice"] == b"strong"
    assert headers[b"x-routeiq-router-reason"] == b"predicted quality 0.9 ? best"  # not latin-1: replaced
    assert headers[b"x-routeiq-cache"] == b"hit"
    assert headers[b"x-note"] == b"??"
    assert b"x-routeiq-cost" not in dict(result_headers(ctx, with_cost=False))
    assert result_headers(CallContext(), with_cost=True) == []
