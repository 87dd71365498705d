"""The quota use case: which limits apply, estimates, refusals as errors, settlement, outages."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import anyio
import anyio.lowlevel
import pytest

from routeiq_adapters.metrics import InMemoryMetrics
from routeiq_adapters.quota import InMemoryQuotaStore
from routeiq_core.access import (
    Amounts,
    Budget,
    BudgetExceededError,
    OutageMonitor,
    Price,
    PriceBook,
    Principal,
    QuotaConfig,
    QuotaExceededError,
    QuotaHealthCheck,
    QuotaItem,
    QuotaLimit,
    QuotaService,
    QuotaStoreError,
    QuotaUnavailableError,
    Refusal,
    Reservation,
    parse_limits,
)
from routeiq_core.errors import ConfigurationError, RateLimitError
from tests.support.clocks import ManualClock

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000.0
PRICES = PriceBook({"demo": Price(input_per_mtok=1_000_000.0, output_per_mtok=2_000_000.0)})  # $1/$2 a token


def vkey(**kw: object) -> Principal:
    return Principal(kind="virtual_key", role="member", key_id="key_a", team="t1", **kw)  # type: ignore[arg-type]


def service(store: object = None, **config: object) -> QuotaService:
    return QuotaService(
        store or InMemoryQuotaStore(),  # type: ignore[arg-type]
        QuotaConfig(**config),  # type: ignore[arg-type]
        prices=PRICES,
        clock=lambda: NOW,
    )


def test_parse_limits_shorthand_and_long_form() -> None:
    assert parse_limits({"rpm": 50, "tpd": 1000, "spend_per_month": 2.5, "input_tokens_per_hour": 7}) == (
        QuotaLimit(metric="requests", window="minute", limit=50),
        QuotaLimit(metric="total_tokens", window="day", limit=1000),
        QuotaLimit(metric="spend", window="month", limit=2.5),
        QuotaLimit(metric="input_tokens", window="hour", limit=7),
    )
    with pytest.raises(ValueError, match="'rps'") as info:
        parse_limits({"rps": 1, "rpm": -1, "bananas_per_day": 3, "tpm": True})  # type: ignore[dict-item]
    assert str(info.value).count(";") == 3


def test_items_cover_key_team_model_group_and_global() -> None:
    quota = service(
        global_limits={"rpm": 1000},
        team_limits={"t1": {"tpm": 500}, "*": {"tpm": 1}},
        model_group_limits={"*": {"rpd": 10}, "demo": {"rpm": 100}},
    )
    principal = vkey(limits=parse_limits({"rpm": 50, "requests_per_minute": 40}), budget=Budget(max_spend=5))
    estimate = quota.estimate("demo", prompt_tokens=10, max_tokens=20)
    assert estimate == Amounts(requests=1, input_tokens=10, output_tokens=20, spend_units=50 * 10**9)
    found = {
        (i.scope, i.scope_id, i.metric, i.window): (i.limit, i.amount)
        for i in quota.items_for(principal, "demo", estimate)
    }
    assert found == {
        ("key", "key_a", "requests", "minute"): (40, 1),  # the tighter of two limits on one counter
        ("key", "key_a", "spend", "month"): (5 * 10**9, 50 * 10**9),
        ("team", "t1", "total_tokens", "minute"): (500, 30),
        ("model_group", "demo", "requests", "minute"): (100, 1),
        ("global", "*", "requests", "minute"): (1000, 1),
    }
    other_team = Principal(kind="virtual_key", role="member", key_id="key_b", team="t9")
    scopes = {(i.scope, i.metric) for i in quota.items_for(other_team, "other", estimate)}
    assert scopes == {("team", "total_tokens"), ("model_group", "requests"), ("global", "requests")}
    # the master key has no key limits, only the shared ones
    assert {i.scope for i in quota.items_for(Principal.admin(), "demo", estimate)} == {
        "model_group",
        "global",
    }


def test_default_max_tokens_is_the_output_estimate() -> None:
    assert service(default_max_tokens=123).estimate("demo", 5, None).output_tokens == 123


def test_invalid_limits_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError) as info:
        service(global_limits={"rpx": 1}, team_limits={"t1": {"tpm": -5}})
    assert len(info.value.problems) == 2
    assert any(p.startswith("quota.team_limits.t1") for p in info.value.problems)


async def test_no_limits_means_no_store_call() -> None:
    class Exploding(InMemoryQuotaStore):
        async def reserve(self, items: Sequence[QuotaItem], now: float) -> Reservation | Refusal:
            raise AssertionError("should not be called")

    ticket = await service(Exploding()).reserve(Principal.admin(), model_group="demo", prompt_tokens=1)
    assert ticket.reservation is None
    assert not ticket.unmetered


async def test_rate_limit_refusal_names_the_limit() -> None:
    quota = service()
    principal = vkey(limits=parse_limits({"rpm": 2}))
    for _ in range(2):
        await quota.reserve(principal, model_group="demo", prompt_tokens=1, max_tokens=1)
    with pytest.raises(QuotaExceededError) as info:
        await quota.reserve(principal, model_group="demo", prompt_tokens=1, max_tokens=1)
    error = info.value
    assert isinstance(error, RateLimitError)
    assert not isinstance(error, BudgetExceededError)
    assert (error.status_code, error.code, error.error_type) == (
        429,
        "rate_limit_exceeded",
        "rate_limit_error",
    )
    assert (error.scope, error.scope_id, error.metric, error.window, error.limit, error.current) == (
        "key",
        "key_a",
        "requests",
        "minute",
        2.0,
        2.0,
    )
    assert int(error.headers["Retry-After"]) >= 1
    assert "key 'key_a'" in error.message
    assert "2 requests per minute" in error.message


async def test_budget_refusal_is_budget_exceeded() -> None:
    quota = service()
    principal = vkey(budget=Budget(max_spend=10, window="day"))
    ticket = await quota.reserve(principal, model_group="demo", prompt_tokens=1, max_tokens=2)  # $5 estimated
    await quota.reserve(principal, model_group="demo", prompt_tokens=1, max_tokens=2)
    with pytest.raises(BudgetExceededError) as info:
        await quota.reserve(principal, model_group="demo", prompt_tokens=1, max_tokens=2)
    assert (info.value.code, info.value.status_code, info.value.metric) == ("budget_exceeded", 429, "spend")
    assert info.value.limit == 10
    assert info.value.current == 10
    # the first call failed before any token was produced: settling frees room for another request
    await quota.settle(ticket, prompt_tokens=0, completion_tokens=0, cost=0.0)
    await quota.reserve(principal, model_group="demo", prompt_tokens=1, max_tokens=2)


async def test_concurrent_burst_never_exceeds_the_budget() -> None:
    store = InMemoryQuotaStore()
    quota = service(store)
    principal = vkey(budget=Budget(max_spend=100))
    admitted: list[object] = []

    async def one() -> None:
        try:
            ticket = await quota.reserve(principal, model_group="demo", prompt_tokens=3, max_tokens=1)  # $5
        except BudgetExceededError:
            return
        admitted.append(ticket)
        await anyio.lowlevel.checkpoint()
        await quota.settle(ticket, prompt_tokens=3, completion_tokens=1, cost=5.0)

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(one)
    assert len(admitted) == 20
    assert (await store.usage("key:key_a", "month", NOW))["spend"] == 100 * 10**9


async def test_request_too_big_for_a_limit_says_so() -> None:
    quota = service(team_limits={"t1": {"tpm": 100}})
    with pytest.raises(QuotaExceededError, match="alone needs 1001") as info:
        await quota.reserve(vkey(), model_group="demo", prompt_tokens=1, max_tokens=1000)
    assert info.value.headers["Retry-After"] == "60"


async def test_a_refusal_leaves_no_partial_reservation() -> None:
    store = InMemoryQuotaStore()
    quota = service(store, team_limits={"t1": {"tpm": 50}})
    principal = vkey(limits=parse_limits({"rpm": 100, "tpm": 1000}))
    await quota.reserve(principal, model_group="demo", prompt_tokens=10, max_tokens=30)
    with pytest.raises(QuotaExceededError) as info:
        await quota.reserve(principal, model_group="demo", prompt_tokens=10, max_tokens=30)
    assert info.value.scope == "team"
    assert await store.usage("key:key_a", "minute", NOW) == {"requests": 1, "total_tokens": 40}


async def test_settle_and_release() -> None:
    store = InMemoryQuotaStore()
    quota = service(store)
    principal = vkey(limits=parse_limits({"tpm": 1000, "rpm": 10}))
    ticket = await quota.reserve(principal, model_group="demo", prompt_tokens=100, max_tokens=500)
    assert (await store.usage("key:key_a", "minute", NOW))["total_tokens"] == 600
    await quota.settle(ticket, prompt_tokens=100, completion_tokens=50, cost=0.0)
    await quota.settle(ticket, prompt_tokens=0, completion_tokens=0, cost=0.0)  # second settle: no effect
    assert (await store.usage("key:key_a", "minute", NOW))["total_tokens"] == 150
    other = await quota.reserve(principal, model_group="demo", prompt_tokens=10, max_tokens=10)
    await quota.release(other)
    assert await store.usage("key:key_a", "minute", NOW) == {"requests": 1, "total_tokens": 150}


class BrokenStore(InMemoryQuotaStore):
    def __init__(self) -> None:
        super().__init__()
        self.broken = True
        self.calls = 0

    async def reserve(self, items: Sequence[QuotaItem], now: float) -> Reservation | Refusal:
        self.calls += 1
        if self.broken:
            raise QuotaStoreError("connection refused")
        return await super().reserve(items, now)

    async def settle(self, reservation: Reservation, actual: Amounts, now: float) -> None:
        if self.broken:
            raise OSError("connection reset")
        await super().settle(reservation, actual, now)

    async def ping(self) -> None:
        if self.broken:
            raise QuotaStoreError("connection refused")

    async def usage(self, scope_key: str, window: str, now: float) -> Mapping[str, int]:  # type: ignore[override]
        return await super().usage(scope_key, window, now)  # type: ignore[arg-type]


async def test_fail_open_admits_unmetered_and_declares_the_outage(caplog: pytest.LogCaptureFixture) -> None:
    store, metrics, clock = BrokenStore(), InMemoryMetrics(), ManualClock(0.0)
    monitor = OutageMonitor("fail_open", metrics, probe_interval_s=5.0, clock=clock)
    quota = QuotaService(store, QuotaConfig(on_outage="fail_open"), monitor=monitor, metrics=metrics)
    health = QuotaHealthCheck(store, monitor)
    principal = vkey(limits=parse_limits({"rpm": 1}))
    with caplog.at_level(logging.WARNING, logger="routeiq.quota"):
        tickets = [await quota.reserve(principal, model_group="demo", prompt_tokens=1) for _ in range(5)]
    assert all(t.unmetered and t.reservation is None for t in tickets)
    assert store.calls == 1  # while down, requests do not wait on the store until the next probe
    assert metrics.counter("routeiq_quota_unmetered_requests") == 5
    assert metrics.counter("routeiq_quota_backend_transitions", to_state="down") == 1
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1  # once per transition
    report = await health.check()
    assert report.status == "degraded"
    assert "fail_open" in (report.reason or "")
    await quota.settle(tickets[0], prompt_tokens=1, completion_tokens=1, cost=0.0)  # no-op, no raise

    store.broken = False
    assert (await health.check()).status == "ok"
    assert metrics.counter("routeiq_quota_backend_transitions", to_state="up") == 1
    await quota.reserve(principal, model_group="demo", prompt_tokens=1)
    with pytest.raises(QuotaExceededError):  # limits are back
        await quota.reserve(principal, model_group="demo", prompt_tokens=1)
    assert monitor.transitions == 2


async def test_fail_closed_refuses_with_503() -> None:
    store = BrokenStore()
    quota = QuotaService(store, QuotaConfig(on_outage="fail_closed"))
    with pytest.raises(QuotaUnavailableError) as info:
        await quota.reserve(vkey(limits=parse_limits({"rpm": 5})), model_group="demo", prompt_tokens=1)
    assert (info.value.status_code, info.value.code) == (503, "quota_unavailable")
    assert int(info.value.headers["Retry-After"]) >= 1
    health = quota.monitor.health()
    assert health.status == "down"  # readiness 503: metered traffic cannot be served here
    assert "fail_closed" in (health.reason or "")


async def test_no_outage_is_declared_once_shutdown_closed_the_store(caplog: pytest.LogCaptureFixture) -> None:
    quota = QuotaService(BrokenStore(), QuotaConfig(on_outage="fail_open"))
    quota.monitor.close()
    with caplog.at_level(logging.WARNING, logger="routeiq.quota"):
        await quota.reserve(vkey(limits=parse_limits({"rpm": 5})), model_group="demo", prompt_tokens=1)
    assert quota.monitor.state == "up"
    assert not [r for r in caplog.records if "unreachable" in r.getMessage()]


async def test_a_slow_store_counts_as_down() -> None:
    class Slow(InMemoryQuotaStore):
        async def reserve(self, items: Sequence[QuotaItem], now: float) -> Reservation | Refusal:
            await anyio.sleep(5)
            raise AssertionError

    quota = QuotaService(Slow(), QuotaConfig(on_outage="fail_open", timeout_s=0.05))
    ticket = await quota.reserve(vkey(limits=parse_limits({"rpm": 5})), model_group="demo", prompt_tokens=1)
    assert ticket.unmetered
    assert quota.monitor.state == "down"


async def test_settle_failure_never_raises_and_survives_cancellation() -> None:
    store = InMemoryQuotaStore()
    quota = service(store)
    principal = vkey(limits=parse_limits({"tpm": 1000}))
    ticket = await quota.reserve(principal, model_group="demo", prompt_tokens=10, max_tokens=90)
    with anyio.CancelScope() as scope:
        scope.cancel()  # a client disconnect cancels the request task; the settle still runs
        await quota.settle(ticket, prompt_tokens=10, completion_tokens=0, cost=0.0)
    assert (await store.usage("key:key_a", "minute", NOW))["total_tokens"] == 10

    broken = BrokenStore()
    broken.broken = False
    quota = QuotaService(broken, QuotaConfig(), metrics=(metrics := InMemoryMetrics()))
    ticket = await quota.reserve(principal, model_group="demo", prompt_tokens=1, max_tokens=1)
    broken.broken = True
    await quota.settle(ticket, prompt_tokens=1, completion_tokens=1, cost=0.0)
    assert metrics.counter("routeiq_quota_settle_failures") == 1
