"""The client's per-request envelope, shaped for each upstream's era."""

from __future__ import annotations

from routeiq_core.mcp.meta import CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, PROTOCOL_VERSION_KEY, for_upstream

ENVELOPE = {
    PROTOCOL_VERSION_KEY: "2026-07-28",
    CLIENT_CAPABILITIES_KEY: {"sampling": {}},
    CLIENT_INFO_KEY: {},
}


def test_a_current_era_upstream_gets_the_clients_capabilities_but_not_its_version() -> None:
    params = {"name": "t", "_meta": {**ENVELOPE, "traceparent": "00-a-b-01"}}
    shaped = for_upstream(params, "2026-07-28")
    assert shaped["_meta"] == {
        CLIENT_CAPABILITIES_KEY: {"sampling": {}},
        CLIENT_INFO_KEY: {},
        "traceparent": "00-a-b-01",
    }
    assert params["_meta"][PROTOCOL_VERSION_KEY] == "2026-07-28"  # the caller's dict is untouched


def test_a_legacy_clients_capabilities_reach_a_current_era_upstream() -> None:
    shaped = for_upstream({"name": "t"}, "2026-07-28", {"elicitation": {}})
    assert shaped == {"name": "t", "_meta": {CLIENT_CAPABILITIES_KEY: {"elicitation": {}}}}
    explicit = for_upstream({"_meta": {CLIENT_CAPABILITIES_KEY: {}}}, "2026-07-28", {"elicitation": {}})
    assert explicit["_meta"][CLIENT_CAPABILITIES_KEY] == {}


def test_a_legacy_upstream_gets_no_envelope() -> None:
    assert for_upstream({"name": "t", "_meta": ENVELOPE}, "2025-11-25") == {"name": "t"}
    kept = for_upstream({"_meta": {**ENVELOPE, "progressToken": 3}}, None)
    assert kept == {"_meta": {"progressToken": 3}}
