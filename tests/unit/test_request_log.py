"""The request log's core: a call's record, its outcome, the journal (bodies, redaction) and read scoping."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
import pytest

from routeiq_adapters.request_log import InMemoryRequestLog
from routeiq_core.access import Principal
from routeiq_core.catalog import ModelGroup
from routeiq_core.context import CallContext, RoutedChoice, RouteDecision
from routeiq_core.errors import AuthenticationError, InvalidRequestError, RateLimitError, UpstreamError
from routeiq_core.guardrails.pii import redact
from routeiq_core.providers import Operation, Usage
from routeiq_core.request_log import (
    CLIENT_CLOSED,
    MAX_PAGE_SIZE,
    RequestJournal,
    RequestQuery,
    RequestRecord,
    outcome_of,
    record_of,
    request_query_for,
)
from tests.support.clocks import ManualClock
from tests.support.providers import deployment

pytestmark = pytest.mark.anyio


def member(role: Any = "member", team: str | None = "t1", key_id: str | None = "k1") -> Principal:
    return Principal(kind="virtual_key", role=role, key_id=key_id, team=team)


def served(**fields: Any) -> CallContext:
    fields.setdefault("received_at", 100.0)
    return CallContext(
        request_id="req-1",
        operation=Operation.CHAT,
        surface="openai",
        source_ip="10.0.0.7",
        principal=member(),
        model="gpt",
        requested_model="gpt",
        group=ModelGroup(name="gpt", deployments=(deployment("gpt", 0),), pattern=None),
        route=RouteDecision(model_group="gpt", deployment_id="gpt-0", strategy="least-busy", attempts=2),
        attempts=2,
        usage=Usage(prompt_tokens=12, completion_tokens=3, total_tokens=15),
        cost=0.25,
        trace_id="0af7651916cd43dd8448eb211c80319c",
        **fields,
    )


def test_the_record_of_a_served_call() -> None:
    record = record_of(served(first_chunk_at=100.05), ended_at=100.5, status=200)
    assert record == RequestRecord(
        at=100.0,
        request_id="req-1",
        surface="openai",
        operation="chat",
        status=200,
        key_id="k1",
        team="t1",
        model="gpt",
        model_group="gpt",
        deployment_id="gpt-0",
        attempts=2,
        latency_ms=pytest.approx(500.0),
        ttft_ms=pytest.approx(50.0),
        prompt_tokens=12,
        completion_tokens=3,
        cost=0.25,
        route_reason="least-busy",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        source_ip="10.0.0.7",
    )


def test_a_routed_name_keeps_what_was_asked_and_why() -> None:
    ctx = served(routed=RoutedChoice(router="auto", model_group="gpt", reason="cheapest good enough"))
    ctx.requested_model = "auto"
    record = record_of(ctx, ended_at=101.0, status=200)
    assert (record.model, record.model_group) == ("auto", "gpt")
    assert record.route_reason == "auto: cheapest good enough; least-busy"


def test_a_call_refused_before_routing_names_its_group_and_last_deployment() -> None:
    ctx = served()
    ctx.route, ctx.usage, ctx.cost, ctx.attempts = None, None, 0.0, 0
    ctx.group = ModelGroup(name="openai/gpt-x", deployments=(), pattern="openai/*")
    ctx.deployment = deployment("openai", 3)
    record = record_of(ctx, ended_at=99.0, status=429, error_type="rate_limit_error")
    assert (record.model_group, record.deployment_id, record.attempts) == ("openai/*", "openai-3", 0)
    assert (record.prompt_tokens, record.completion_tokens, record.route_reason) == (0, 0, None)
    assert record.latency_ms == 0.0  # a clock that went back never gives a negative latency
    assert record.ttft_ms is None


async def test_outcomes() -> None:
    assert outcome_of(None) == (200, None)
    assert outcome_of(AuthenticationError("no")) == (401, "authentication_error")
    assert outcome_of(RateLimitError("slow down")) == (429, "rate_limit_error")
    assert outcome_of(UpstreamError("bad gateway", status_code=502)) == (502, "api_error")
    assert outcome_of(anyio.get_cancelled_exc_class()()) == (CLIENT_CLOSED, "client_closed")
    assert outcome_of(RuntimeError("bug")) == (500, "api_error")


async def only(log: InMemoryRequestLog) -> RequestRecord:
    page = await log.query(RequestQuery())
    assert len(page.records) == 1
    return page.records[0]


async def test_the_journal_logs_no_bodies_by_default() -> None:
    log = InMemoryRequestLog(clock=lambda: 100.0)
    journal = RequestJournal(log, clock=ManualClock(100.2))
    ctx = served(payload={"model": "gpt", "messages": [{"role": "user", "content": "hi"}]})
    await journal.ended(ctx, None, b'{"answer": 1}')
    record = await only(log)
    assert (record.status, record.request_body, record.response_body) == (200, None, None)
    assert record.latency_ms == pytest.approx(200.0)


async def test_the_journal_logs_bodies_when_asked_and_the_error_of_a_refusal() -> None:
    log = InMemoryRequestLog(clock=lambda: 100.0)
    journal = RequestJournal(log, bodies=True, clock=ManualClock(100.0))
    ctx = served(payload={"model": "gpt", "messages": [{"role": "user", "content": "héllo"}]})
    await journal.ended(ctx, RateLimitError("slow down"), None)
    record = await only(log)
    assert msgspec.json.decode(record.request_body or "") == ctx.payload
    assert record.response_body is None  # nothing answered (or a stream)
    assert (record.status, record.error_type) == (429, "rate_limit_error")


async def test_bodies_are_redacted_then_cut() -> None:
    log = InMemoryRequestLog(clock=lambda: 100.0)
    journal = RequestJournal(
        log, bodies=True, redact=lambda text: redact(text)[0], max_body_chars=40, clock=ManualClock(100.0)
    )
    answer = ("x" * 30 + " alice.example@example.com and more").encode()
    await journal.ended(served(payload={"content": "mail bob@example.org"}), None, answer)
    record = await only(log)
    assert record.request_body == '{"content":"mail [REDACTED:EMAIL]"}'
    # the address straddles the limit: found in the whole text, then cut, never leaked in part
    assert record.response_body == "x" * 30 + " [REDACTED"
    assert "alice" not in (record.response_body or "")


async def test_a_body_longer_than_the_limit_is_cut_on_a_character() -> None:
    log = InMemoryRequestLog(clock=lambda: 100.0)
    journal = RequestJournal(log, bodies=True, max_body_chars=5, clock=ManualClock(100.0))
    await journal.ended(served(), None, "ééééééé".encode())
    assert (await only(log)).response_body == "ééééé"


def test_an_admin_reads_everything() -> None:
    query = RequestQuery(key_id="k9", team="t9")
    assert request_query_for(Principal.admin(), query) == query
    assert request_query_for(Principal.anonymous(), query) == query


@pytest.mark.parametrize(
    ("reader", "key_id", "team"),
    [
        (member("member"), "k1", None),  # a member: its own key only, even within its team
        (member("member", team=None), "k1", None),
        (member("team_admin"), None, "t1"),  # a team reader: its own team
        (member("viewer"), None, "t1"),
        (member("viewer", team=None), "k1", None),  # no team: its own key
        (member("viewer", team=None, key_id=None), "", None),  # no key either: nothing
    ],
)
def test_readers_are_confined(reader: Principal, key_id: str | None, team: str | None) -> None:
    scoped = request_query_for(reader, RequestQuery(status=200))
    assert (scoped.key_id, scoped.team, scoped.status) == (key_id, team, 200)


def test_filters_outside_a_readers_scope_select_nothing() -> None:
    def scoped(reader: Principal, **fields: Any) -> tuple[str | None, str | None]:
        query = request_query_for(reader, RequestQuery(**fields))
        return query.key_id, query.team

    assert scoped(member("member"), key_id="k1", team="t1") == ("k1", "t1")
    assert scoped(member("member"), key_id="k9") == ("", None)
    assert scoped(member("team_admin"), key_id="k9") == ("k9", "t1")  # any key of its team
    assert scoped(member("team_admin"), team="t9") == (None, "")
    assert scoped(member("viewer", team=None), key_id="k9") == ("", None)


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": MAX_PAGE_SIZE + 1}, "limit"),
        ({"status": 99}, "status"),
        ({"status": 600}, "status"),
        ({"status_class": 6}, "status"),
        ({"since": -1.0}, "since"),
        ({"until": float("inf")}, "until"),
        ({"since": float("nan")}, "since"),
        ({"until": 1e13}, "until"),
        ({"since": 20.0, "until": 10.0}, "since"),
    ],
)
def test_bad_bounds_are_400(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        request_query_for(Principal.admin(), RequestQuery(**fields))
    assert (caught.value.status_code, caught.value.param) == (400, param)


def test_query_semantics() -> None:
    record = RequestRecord(at=10.0, key_id="k", team="t", model="auto", model_group="g", status=503)
    assert RequestQuery().accepts(record)
    assert RequestQuery(model="auto").accepts(record)
    assert RequestQuery(model="g").accepts(record)
    assert RequestQuery(status_class=5, since=10.0, until=10.5).accepts(record)
    assert not RequestQuery(until=10.0).accepts(record)
    assert not RequestQuery(status_class=4).accepts(record)
    assert not RequestQuery(key_id="").accepts(record)
