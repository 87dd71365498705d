"""List fan-out: concurrent, fail-open, reported in the outcomes, cached per worker."""

from __future__ import annotations

import time

import anyio
import pytest

from tests.support.mcp_fakes import FakeUpstream, ServiceRig

pytestmark = pytest.mark.anyio

TOOLS = {"tools": [{"name": "search", "inputSchema": {"type": "object"}, "x-vendor": 1}]}


async def test_a_slow_upstream_is_skipped_without_delaying_the_others() -> None:
    fast = FakeUpstream("fast", TOOLS)
    slow = FakeUpstream("slow", TOOLS, delay_s={"tools/list": 30})
    rig = ServiceRig(fast, slow, list_timeout_s=0.2)
    caller = await rig.caller()
    started = time.monotonic()
    listing = await rig.service.list(caller, "tools")
    assert time.monotonic() - started < 2
    assert [item["name"] for _, item in listing.items] == ["fast__search"]
    outcomes = {o.server: o for o in listing.outcomes}
    assert outcomes["fast"].ok
    assert not outcomes["slow"].ok
    assert outcomes["slow"].error is not None
    assert "0.2" in outcomes["slow"].error


async def test_a_failing_upstream_is_reported_and_the_others_served() -> None:
    rig = ServiceRig(FakeUpstream("up", TOOLS), FakeUpstream("down", TOOLS, fail=("*",)))
    listing = await rig.service.list(await rig.caller(), "tools")
    assert [item["name"] for _, item in listing.items] == ["up__search"]
    assert [(o.server, o.ok) for o in listing.outcomes] == [("up", True), ("down", False)]


async def test_lists_are_fetched_concurrently() -> None:
    upstreams = [FakeUpstream(f"u{i}", TOOLS, delay_s={"tools/list": 0.3}) for i in range(5)]
    rig = ServiceRig(*upstreams, list_timeout_s=5)
    started = time.monotonic()
    listing = await rig.service.list(await rig.caller(), "tools")
    assert time.monotonic() - started < 1.0
    assert len(listing.items) == 5


async def test_unknown_fields_survive_and_lists_are_cached() -> None:
    upstream = FakeUpstream("a", TOOLS)
    rig = ServiceRig(upstream)
    caller = await rig.caller()
    first = await rig.service.list(caller, "tools")
    second = await rig.service.list(caller, "tools")
    assert first.items[0][1]["x-vendor"] == 1
    assert [c.method for c in upstream.calls] == ["tools/list"]
    assert second.outcomes[0].cached
    rig.service.catalog.invalidate("a")
    await rig.service.list(caller, "tools")
    assert [c.method for c in upstream.calls] == ["tools/list", "tools/list"]


async def test_resources_and_templates_are_namespaced() -> None:
    upstream = FakeUpstream(
        "docs",
        {
            "resources": [{"uri": "file:///a.md", "name": "a"}],
            "resourceTemplates": [{"uriTemplate": "file:///{path}", "name": "any"}],
        },
    )
    rig = ServiceRig(upstream)
    caller = await rig.caller()
    resources = await rig.service.list(caller, "resources")
    templates = await rig.service.list(caller, "resourceTemplates")
    assert resources.items[0][1]["uri"] == "docs+file:///a.md"
    assert templates.items[0][1]["uriTemplate"] == "docs+file:///{path}"


async def test_pages_are_followed() -> None:
    class Paged(FakeUpstream):
        async def request(self, call, on_message=None):  # type: ignore[no-untyped-def]
            import msgspec

            from routeiq_core.mcp import UpstreamReply

            self.calls.append(call)
            cursor = (call.params or {}).get("cursor")
            page = {"tools": [{"name": f"t{cursor or 0}"}]}
            if cursor is None:
                page["nextCursor"] = "1"
            return UpstreamReply(result=msgspec.Raw(msgspec.json.encode(page)))

    rig = ServiceRig(Paged("p"))
    listing = await rig.service.list(await rig.caller(), "tools")
    assert [item["name"] for _, item in listing.items] == ["p__t0", "p__t1"]


async def test_cancellation_is_not_swallowed() -> None:
    rig = ServiceRig(FakeUpstream("slow", TOOLS, delay_s={"tools/list": 10}), list_timeout_s=30)
    caller = await rig.caller()
    with anyio.move_on_after(0.1) as scope:
        await rig.service.list(caller, "tools")
    assert scope.cancelled_caught
