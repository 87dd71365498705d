"""The request use case driven directly, with in-memory adapters and no ASGI: each path's settlement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio
import msgspec
import pytest

from routeiq_adapters.quota.memory import InMemoryQuotaStore
from routeiq_adapters.spend.memory import InMemorySpendLedger
from routeiq_core.access import (
    Authenticator,
    KeyHasher,
    KeyService,
    NewKey,
    PolicyEngine,
    Principal,
    QuotaConfig,
    QuotaExceededError,
    QuotaService,
    parse_limits,
    scope_key,
)
from routeiq_core.access.quota import Reservation
from routeiq_core.access.quota_limits import Amounts
from routeiq_core.access.spend import PriceBook, SpendFilter, SpendReport
from routeiq_core.calls import (
    CallAccess,
    CallAnswer,
    CallCommand,
    CallRequest,
    CallService,
    CallStream,
    Credentials,
    RoutingHints,
    Settlement,
)
from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.errors import (
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
    UpstreamError,
)
from routeiq_core.plugins import BasePlugin, Capability, PluginManager, PluginSpec, ShortCircuit
from routeiq_core.providers import Operation
from routeiq_core.tracing import NOOP_TRACER, Tracer
from tests.support.gateways import make
from tests.support.providers import ScriptedClient, deployment, failure
from tests.support.stores import DictKeyStore

pytestmark = pytest.mark.anyio

MASTER = "sk-master-0123456789abcdef"
CHEAP = {"input_price_per_mtok": 1.0, "output_price_per_mtok": 2.0}
DEAR = {"input_price_per_mtok": 10.0, "output_price_per_mtok": 20.0}


class CountingQuotaStore(InMemoryQuotaStore):
    """The in-memory store, counting settlements (a release is a settlement of nothing)."""

    def __init__(self) -> None:
        super().__init__()
        self.settlements = 0

    async def settle(self, reservation: Reservation, actual: Amounts, now: float) -> None:
        self.settlements += 1
        await super().settle(reservation, actual, now)


class Answering(BasePlugin):
    """Answers every request itself (like a cache hit) and records the hooks it saw."""

    def __init__(self) -> None:
        self.spec = PluginSpec(name="answering", capabilities=frozenset({Capability.RESPONSE_READ}))
        self.seen: list[str] = []

    async def before_request(self, ctx: CallContext) -> ShortCircuit:
        self.seen.append("before_request")
        return ShortCircuit(body=b'{"cached": true}', frames=(b'data: {"cached": true}\n\n',))


class Recording(BasePlugin):
    """Records every hook with what the context held at that moment."""

    def __init__(self) -> None:
        self.spec = PluginSpec(name="recording", capabilities=frozenset({Capability.RESPONSE_READ}))
        self.seen: list[tuple[str, Any]] = []

    async def before_call(self, ctx: CallContext, deployment: Deployment) -> None:
        self.seen.append(("before_call", deployment.id))

    async def after_response(self, ctx: CallContext, body: bytes | None) -> bytes | None:
        self.seen.append(("after_response", ctx.cost))
        return None

    async def on_error(self, ctx: CallContext, error: Exception) -> None:
        self.seen.append(("on_error", type(error).__name__))


class Harness:
    """A CallService over one model group ``g``, with a key store, quotas, spend and plugins in memory."""

    def __init__(
        self,
        deployments: tuple[Deployment, ...],
        script: dict[str, list[Any]] | None = None,
        *,
        plugins: tuple[BasePlugin, ...] = (),
        policy: Mapping[str, Any] | None = None,
        master_key: str | None = MASTER,
        tracer: Tracer = NOOP_TRACER,
        forwarders: Mapping[Any, Any] | None = None,
    ) -> None:
        group = ModelGroup(name="g", deployments=deployments)
        made = make([group], script, tracer=tracer, forwarders=forwarders)
        gateway, self.client, self.metrics, self.clock, _ = made
        self.keys_store, self.hasher = DictKeyStore(), KeyHasher("server-secret-0123456789")
        self.quota_store = CountingQuotaStore()
        quota = QuotaService(
            self.quota_store, QuotaConfig(), prices=PriceBook.from_catalog(gateway.catalog), clock=self.clock
        )
        self.spend = InMemorySpendLedger()
        access = CallAccess(
            authenticator=Authenticator(
                store=self.keys_store,
                hasher=self.hasher,
                master_key=master_key,
                anonymous=None if master_key else Principal.anonymous(),
            ),
            policy=PolicyEngine.from_config(policy or {}),
            quota=quota,
            catalog=gateway.catalog,
        )
        self.gateway = gateway
        self.service = CallService(
            access=access,
            gateway=gateway,
            plugins=PluginManager(plugins, allowed_capabilities=None, metrics=self.metrics),
            settlement=Settlement(quota=quota, spend=self.spend, metrics=self.metrics, clock=self.clock),
            tracer=tracer,
            clock=self.clock,
        )

    async def key(self, **limits: float) -> tuple[str, str]:
        """A virtual key with these limits, and token limits that only count: (secret, key id)."""
        counted = {"input_tokens_per_minute": 1e6, "output_tokens_per_minute": 1e6, **limits}
        issued = await KeyService(self.keys_store, self.hasher).issue(
            Principal.admin(), NewKey(limits=parse_limits(counted))
        )
        return issued.key, issued.record.key_id

    async def used(self, key_id: str) -> Mapping[str, int]:
        """What the key has used this minute, as the quota store counts it."""
        return await self.quota_store.usage(scope_key("key", key_id), "minute", self.clock())

    async def spent(self) -> SpendReport:
        return await self.spend.report(SpendFilter())


def command(token: str | None = MASTER, *, stream: bool = False, **payload: Any) -> CallCommand:
    body = {
        "model": "g",
        "messages": [{"role": "user", "content": "hello there"}],
        "max_tokens": 50,
        **payload,
    }
    return CallCommand(
        operation=Operation.CHAT,
        credentials=Credentials(token=token, client_address="192.0.2.1"),
        request=CallRequest(payload=body, stream=stream),
        request_id="req-1",
        surface="library",
    )


async def answer(service: CallService, cmd: CallCommand) -> CallAnswer:
    async with service.call(cmd) as result:
        assert isinstance(result, CallAnswer)
        return result


async def test_a_served_call_settles_its_usage_and_records_its_cost_once() -> None:
    h = Harness((deployment("g", 0, **CHEAP),))
    secret, key_id = await h.key(rpm=10)
    result = await answer(h.service, command(secret))
    ctx = result.context
    assert msgspec.json.decode(result.body)["served_by"] == "g-0"
    assert ctx.route is not None
    assert ctx.route.deployment_id == "g-0"
    assert ctx.cost == pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6)  # the scripted usage at g-0's prices
    assert h.quota_store.settlements == 1
    used = await h.used(key_id)
    assert (used["requests"], used["input_tokens"], used["output_tokens"]) == (1, 10, 5)
    report = await h.spent()
    assert (report.total.requests, report.total.cost) == (1, pytest.approx(ctx.cost))
    assert set(report.by_key) == {key_id}
    assert h.metrics.counter("routeiq_spend", deployment="g-0") == pytest.approx(ctx.cost)


async def test_a_key_over_its_quota_is_refused_before_any_upstream_call() -> None:
    h = Harness((deployment("g", 0),))
    secret, key_id = await h.key(rpm=1)
    await answer(h.service, command(secret))
    with pytest.raises(QuotaExceededError) as info:
        await answer(h.service, command(secret))
    assert info.value.status_code == 429
    assert "Retry-After" in info.value.headers
    assert h.client.calls == ["g-0"]  # the refused call never reached an upstream
    assert (await h.used(key_id))["requests"] == 1
    assert (await h.spent()).total.requests == 1
    assert h.quota_store.settlements == 1  # only the served call had anything to settle


async def test_describe_admits_up_to_the_group_and_reserves_nothing() -> None:
    h = Harness((deployment("g", 0),))
    secret, key_id = await h.key(rpm=1)
    for _ in range(3):  # more than the key's rate: nothing is reserved
        ctx = await h.service.describe(command(secret))
        assert (ctx.model_group, ctx.key_id) == ("g", key_id)
        assert ctx.estimated_prompt_tokens > 0
    assert (await h.used(key_id)).get("requests", 0) == 0
    assert h.client.calls == []
    with pytest.raises(AuthenticationError):
        await h.service.describe(command("sk-wrong"))


async def test_a_plugin_short_circuit_gives_the_whole_reservation_back() -> None:
    plugin = Answering()
    h = Harness((deployment("g", 0),), plugins=(plugin,))
    secret, key_id = await h.key(rpm=1)
    for _ in range(3):  # rpm=1: only possible because each answer released its reservation
        result = await answer(h.service, command(secret))
        assert result.body == b'{"cached": true}'
        assert result.context.route is None
    async with h.service.call(command(secret, stream=True)) as streamed:
        assert isinstance(streamed, CallStream)
        assert b"".join([f async for f in streamed.frames]).endswith(b"data: [DONE]\n\n")
    assert h.client.calls == []
    assert (await h.used(key_id)).get("requests", 0) == 0
    assert (await h.spent()).total.requests == 0
    assert h.quota_store.settlements == 4


async def test_a_failover_is_served_and_priced_by_the_deployment_that_answered() -> None:
    recorder = Recording()
    h = Harness(
        (deployment("g", 0, **CHEAP), deployment("g", 1, **DEAR)),
        {"g-0": [failure(500)]},
        plugins=(recorder,),
    )
    result = await answer(h.service, command())
    ctx = result.context
    assert ctx.route is not None
    assert (ctx.route.deployment_id, ctx.route.attempts) == ("g-1", 2)
    assert ctx.cost == pytest.approx((10 * 10.0 + 5 * 20.0) / 1e6)
    assert recorder.seen == [("before_call", "g-0"), ("before_call", "g-1"), ("after_response", ctx.cost)]
    report = await h.spent()
    assert (report.total.requests, report.total.cost) == (1, pytest.approx(ctx.cost))
    assert h.quota_store.settlements == 0  # the master key has no limits: nothing reserved, nothing held


async def test_a_client_that_leaves_mid_stream_is_settled_once_with_its_estimated_usage() -> None:
    recorder = Recording()
    h = Harness((deployment("g", 0, **CHEAP),), plugins=(recorder,))
    secret, key_id = await h.key(rpm=10)
    received: list[bytes] = []
    context: CallContext | None = None
    with anyio.CancelScope() as disconnect:
        async with h.service.call(command(secret, stream=True)) as result:
            assert isinstance(result, CallStream)
            context = result.context
            async for frame in result.frames:
                received.append(frame)
                disconnect.cancel()  # the client goes away after the first frame
                await anyio.sleep(1)  # the next await is cancelled, as a disconnect cancels the writer
    assert disconnect.cancelled_caught
    assert context is not None
    assert len(received) == 1
    assert h.client.closed_streams == 1  # the upstream stream was closed
    assert h.gateway.stats.in_flight("g-0") == 0
    assert context.usage_estimated
    assert context.usage is not None
    assert context.usage.completion_tokens == 1
    assert h.quota_store.settlements == 1
    report = await h.spent()
    assert (report.total.requests, report.total.completion_tokens) == (1, 1)
    assert report.total.cost == pytest.approx(context.cost)
    assert context.cost > 0
    assert ("after_response", context.cost) in recorder.seen
    assert (await h.used(key_id))["output_tokens"] == 1  # not the 50 reserved for max_tokens


async def test_a_stream_read_to_its_end_settles_the_usage_the_upstream_reported() -> None:
    h = Harness((deployment("g", 0, **CHEAP),))
    secret, key_id = await h.key(rpm=10)
    async with h.service.call(command(secret, stream=True)) as result:
        assert isinstance(result, CallStream)
        frames = [f async for f in result.frames]
    assert frames[-1] == b"data: [DONE]\n\n"
    assert not result.context.usage_estimated
    assert (await h.used(key_id))["output_tokens"] == 3
    assert h.quota_store.settlements == 1
    assert (await h.spent()).total.completion_tokens == 3


async def test_a_policy_deny_reserves_nothing_and_calls_nobody() -> None:
    policy = {"rules": [{"name": "no-g", "match": {"models": ["g"]}, "action": "deny", "reason": "closed"}]}
    h = Harness((deployment("g", 0),), policy=policy)
    secret, key_id = await h.key(rpm=10)
    with pytest.raises(PermissionDeniedError) as info:
        await answer(h.service, command(secret))
    assert (info.value.status_code, info.value.code) == (403, "policy_denied")
    assert "closed" in info.value.message
    assert h.client.calls == []
    assert (await h.used(key_id)).get("requests", 0) == 0
    assert (await h.spent()).total.requests == 0


async def test_an_upstream_failure_releases_the_reservation_and_tells_the_plugins() -> None:
    recorder = Recording()
    h = Harness((deployment("g", 0),), {"g-0": [failure(400)]}, plugins=(recorder,))
    secret, key_id = await h.key(rpm=10)
    with pytest.raises(UpstreamError):
        await answer(h.service, command(secret))
    assert ("on_error", "UpstreamError") in recorder.seen
    assert (await h.used(key_id)).get("requests", 0) == 0
    assert (await h.spent()).total.requests == 0
    assert h.quota_store.settlements == 1


async def test_authentication_comes_before_the_body_is_even_decoded() -> None:
    h = Harness((deployment("g", 0),))
    decoded: list[bool] = []

    def decode() -> CallRequest:
        decoded.append(True)
        raise InvalidRequestError("Invalid request: Expected `str` (field 'messages[0].role')")

    bad = msgspec.structs.replace(command(None), request=decode)
    with pytest.raises(AuthenticationError):
        await answer(h.service, bad)
    assert decoded == []
    with pytest.raises(InvalidRequestError):  # with a valid key, the body's problem is reported
        await answer(h.service, msgspec.structs.replace(bad, credentials=Credentials(token=MASTER)))
    assert decoded == [True]


async def test_hints_and_the_payload_fill_the_context_once() -> None:
    h = Harness((deployment("g", 0, tags=("eu",)),))
    cmd = msgspec.structs.replace(
        command(user="end-user-7", routeiq={"cost_weight": 0.5}),
        hints=RoutingHints(tags=("eu",), conversation_id="conv-1"),
    )
    ctx = (await answer(h.service, cmd)).context
    assert (ctx.tags, ctx.conversation_id, ctx.user, ctx.max_tokens) == (("eu",), "conv-1", "end-user-7", 50)
    assert (ctx.surface, ctx.source_ip, ctx.request_id, ctx.model_group) == (
        "library",
        "192.0.2.1",
        "req-1",
        "g",
    )
    assert ctx.received_at == h.clock.now
    assert "routeiq" not in h.client.payloads[0]  # RouteIQ's own options never go upstream


async def test_a_bad_cost_weight_is_a_400_naming_it() -> None:
    h = Harness((deployment("g", 0),))
    cmd = msgspec.structs.replace(command(), hints=RoutingHints(cost_weight="lots"))
    with pytest.raises(InvalidRequestError) as info:
        await answer(h.service, cmd)
    assert info.value.param == "cost_weight"
    assert isinstance(h.client, ScriptedClient)
    assert h.client.calls == []


async def test_an_open_gateway_serves_callers_without_a_key_or_with_a_foreign_one() -> None:
    h = Harness((deployment("g", 0),), master_key=None)
    for token in (None, "sk-proj-someone-elses-key"):
        ctx = (await answer(h.service, command(token))).context
        assert ctx.principal.kind == "anonymous"
