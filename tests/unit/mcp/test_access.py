"""Tool access: one decision for listing and calling; a hidden tool answers exactly like a missing one."""

from __future__ import annotations

from typing import Any

import pytest

from routeiq_core.access import KeyService, Principal
from routeiq_core.access.errors import QuotaExceededError
from routeiq_core.access.key_service import NewKey
from routeiq_core.access.spend import SpendFilter
from routeiq_core.calls import Credentials
from routeiq_core.errors import PermissionDeniedError, UpstreamError
from routeiq_core.mcp import Caller, Forward, ToolFilter, UnknownNameError
from routeiq_core.request_log import RequestQuery
from tests.support.mcp_fakes import FakeUpstream, ServiceRig

pytestmark = pytest.mark.anyio

GITHUB = {"tools": [{"name": "search"}, {"name": "delete_repo"}]}
DOCS = {"tools": [{"name": "search"}, {"name": "read"}]}


def rig(**kw: Any) -> tuple[ServiceRig, FakeUpstream, FakeUpstream]:
    github, docs = FakeUpstream("github", GITHUB), FakeUpstream("docs", DOCS)
    return ServiceRig(github, docs, **kw), github, docs


async def names(r: ServiceRig, caller: Caller) -> list[str]:
    return [item["name"] for _, item in (await r.service.list(caller, "tools")).items]


async def unknown_message(r: ServiceRig, caller: Caller, name: str) -> str:
    with pytest.raises(UnknownNameError) as raised:
        await r.service.call_tool(caller, {"name": name, "arguments": {}}, Forward())
    return raised.value.message


async def test_every_tool_is_listed_and_called_by_default() -> None:
    r, github, _ = rig()
    caller = await r.caller()
    assert await names(r, caller) == ["github__search", "github__delete_repo", "docs__search", "docs__read"]
    reply = await r.service.call_tool(caller, {"name": "github__search", "arguments": {"q": "x"}}, Forward())
    assert reply.result is not None
    assert b"github:search" in bytes(reply.result)
    sent = github.calls[-1]
    assert (sent.method, sent.params) == ("tools/call", {"name": "search", "arguments": {"q": "x"}})


async def test_a_key_allow_list_hides_tools_from_listing_and_calling_alike() -> None:
    r, github, _ = rig()
    caller = await r.caller(allowed_tools=["docs/*", "*/search"])
    assert await names(r, caller) == ["github__search", "docs__search", "docs__read"]
    hidden = await unknown_message(r, caller, "github__delete_repo")
    missing = await unknown_message(r, caller, "github__no_such_tool")
    assert hidden == "Unknown tool: github__delete_repo"
    assert missing == "Unknown tool: github__no_such_tool"
    assert all(c.method != "tools/call" for c in github.calls)


async def test_a_mistyped_allow_list_allows_nothing() -> None:
    r, _, _ = rig()
    assert await names(r, await r.caller(allowed_tools=42)) == []


async def test_team_patterns_narrow_further() -> None:
    r, _, _ = rig()
    member = await r.caller(allowed_tools=["*/search", "docs/*"])
    caller = Caller(principal=member.principal, team_patterns=("docs/*",))
    assert await names(r, caller) == ["docs__search", "docs__read"]
    await unknown_message(r, caller, "github__search")


async def test_a_config_filter_applies_to_everyone() -> None:
    r, _, _ = rig(filters={"github": ToolFilter(deny=("delete_*",))})
    caller = await r.caller()
    assert "github__delete_repo" not in await names(r, caller)
    await unknown_message(r, caller, "github__delete_repo")


async def test_policy_rules_match_server_slash_tool() -> None:
    policy = {
        "rules": [
            {
                "name": "no-deleting",
                "match": {"surfaces": ["mcp"], "operations": ["tool_call"], "models": ["github/delete_*"]},
                "action": "deny",
            }
        ]
    }
    r, _, _ = rig(policy=policy)
    caller = await r.caller()
    assert "github__delete_repo" not in await names(r, caller)
    await unknown_message(r, caller, "github__delete_repo")
    assert (await r.service.call_tool(caller, {"name": "github__search"}, Forward())).result is not None


async def test_a_viewer_lists_but_may_not_call() -> None:
    r, _, _ = rig()
    issued = await KeyService(r.keys, r.hasher).issue(Principal.admin(), NewKey(role="viewer"))
    viewer = await r.service.caller(Credentials(token=issued.key))
    assert await names(r, viewer)
    with pytest.raises(PermissionDeniedError):
        await r.service.call_tool(viewer, {"name": "docs__read"}, Forward())


async def test_calls_take_the_keys_rate_limit_and_are_recorded_as_calls() -> None:
    r, _, _ = rig()
    caller = await r.caller(rpm=1)
    await r.service.call_tool(caller, {"name": "docs__read"}, Forward())
    with pytest.raises(QuotaExceededError):
        await r.service.call_tool(caller, {"name": "docs__read"}, Forward())
    assert r.metrics.counter("routeiq_mcp_calls", server="docs", outcome="ok") == 1
    report = await r.spend.report(SpendFilter())
    assert report.by_model_group["mcp:docs"].requests == 1
    assert report.by_key[str(caller.principal.key_id)].requests == 1
    assert report.total.prompt_tokens == report.total.completion_tokens == 0


async def test_a_failing_upstream_opens_its_breaker_and_leaves_the_others() -> None:
    github, docs = FakeUpstream("github", GITHUB, fail=("tools/call",)), FakeUpstream("docs", DOCS)
    r = ServiceRig(github, docs)
    caller = await r.caller()
    for _ in range(2):
        with pytest.raises(UpstreamError):
            await r.service.call_tool(caller, {"name": "github__search"}, Forward())
    with pytest.raises(UpstreamError) as refused:
        await r.service.call_tool(caller, {"name": "github__search"}, Forward())
    assert refused.value.status_code == 503
    assert len([c for c in github.calls if c.method == "tools/call"]) == 2
    assert (await r.service.call_tool(caller, {"name": "docs__read"}, Forward())).result is not None
    assert r.metrics.counter("routeiq_mcp_calls", server="github", outcome="upstream_error") == 3


async def test_only_param_headers_and_sessions_reach_the_upstream() -> None:
    r, _, docs = rig()
    caller = await r.caller()
    forward = Forward(headers={"Mcp-Param-Region": "eu"}, sessions={"docs": "s-1", "github": "s-2"})
    await r.service.call_tool(
        caller, {"name": "docs__read", "_meta": {"traceparent": "00-ab-cd-01"}}, forward
    )
    sent = docs.calls[-1]
    assert dict(sent.headers) == {"Mcp-Param-Region": "eu"}
    assert sent.session == "s-1"
    assert sent.params == {"name": "read", "_meta": {"traceparent": "00-ab-cd-01"}}


async def test_single_upstream_mode_drops_prefixes() -> None:
    docs = FakeUpstream("docs", DOCS)
    r = ServiceRig(docs, single=True)
    caller = await r.caller()
    assert await names(r, caller) == ["search", "read"]
    await r.service.call_tool(caller, {"name": "read"}, Forward())
    assert docs.calls[-1].params == {"name": "read"}


async def test_resource_reads_go_to_their_server_and_come_back_namespaced() -> None:
    r, _, docs = rig()
    caller = await r.caller()
    reply = await r.service.read_resource(caller, {"uri": "docs+file:///a.md"}, Forward())
    assert docs.calls[-1].params == {"uri": "file:///a.md"}
    assert reply.result is not None
    assert b'"uri":"docs+file:///a.md"' in bytes(reply.result)
    with pytest.raises(UnknownNameError):
        await r.service.read_resource(caller, {"uri": "nobody+file:///a.md"}, Forward())


async def test_rules_about_long_answers_or_tool_definitions_do_not_catch_tool_calls() -> None:
    policy = {
        "rules": [
            {"name": "no-long", "match": {"max_tokens": {"min": 1000}}, "action": "deny"},
            {"name": "no-tools", "match": {"tools": True}, "action": "deny"},
        ]
    }
    r, _, _ = rig(policy=policy)
    assert len(await names(r, await r.caller())) == 4


async def test_a_deny_default_hides_tools_no_rule_allows() -> None:
    policy = {
        "default": "deny",
        "rules": [{"name": "docs", "match": {"surfaces": ["mcp"], "models": ["docs/*"]}, "action": "allow"}],
    }
    r, _, _ = rig(policy=policy)
    assert await names(r, await r.caller()) == ["docs__search", "docs__read"]


async def test_every_admitted_call_is_in_the_request_log() -> None:
    github = FakeUpstream("github", GITHUB, fail=("tools/call",))
    r = ServiceRig(github, FakeUpstream("docs", DOCS))
    caller = await r.caller()
    await r.service.call_tool(caller, {"name": "docs__read"}, Forward())
    with pytest.raises(UpstreamError):
        await r.service.call_tool(caller, {"name": "github__search"}, Forward())
    page = await r.requests.query(RequestQuery())
    logged = sorted(
        (rec.model, rec.status, rec.surface, rec.operation, rec.model_group) for rec in page.records
    )
    assert logged == [
        ("docs/read", 200, "mcp", "tool_call", "mcp:docs"),
        ("github/search", 502, "mcp", "tool_call", "mcp:github"),
    ]
    assert all(rec.key_id == caller.principal.key_id for rec in page.records)
