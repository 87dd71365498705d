"""Native forwarding in the gateway: per attempt, the client's own body to deployments that speak it."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from routeiq_core.catalog import ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.errors import UpstreamError
from routeiq_core.forwarders import merge_usage
from routeiq_core.native import NativeProtocol, NativeRequest
from routeiq_core.providers import Operation, Usage
from routeiq_core.sse import DONE
from tests.support.forwarders import NATIVE_END, NATIVE_EVENTS, ScriptedForwarder
from tests.support.gateways import make
from tests.support.providers import deployment, failure

MESSAGES = NativeProtocol.MESSAGES
NATIVE_BODY = {"model": "g", "messages": [{"role": "user", "content": "hi"}], "x_unknown": {"kept": 1}}


def native_group(*speaks: bool, name: str = "g", **kw: Any) -> ModelGroup:
    """A group whose i-th deployment speaks Messages when ``speaks[i]``."""
    ds = tuple(
        deployment(name, i, native=frozenset({MESSAGES}) if s else frozenset()) for i, s in enumerate(speaks)
    )
    return ModelGroup(name=name, deployments=ds, **kw)


def request(model: str = "g", *, stream: bool = False, native: NativeRequest | None = None) -> CallContext:
    chat = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if native is None:
        native = NativeRequest(protocol=MESSAGES, body=dict(NATIVE_BODY), headers={"anthropic-beta": "b1"})
    return CallContext(operation=Operation.CHAT, model=model, payload=chat, stream=stream, native=native)


def gateway(groups: list[ModelGroup], script: dict[str, list[Any]] | None = None, **kw: Any) -> Any:
    forwarder = ScriptedForwarder(script)
    gw, client, metrics, _, breakers = make(groups, script, forwarders={MESSAGES: forwarder}, **kw)
    return gw, client, forwarder, metrics, breakers


def test_a_deployment_that_speaks_the_protocol_gets_the_clients_body() -> None:
    gw, client, forwarder, metrics, _ = gateway([native_group(True)])
    ctx = request()
    response = anyio.run(gw.complete, ctx)
    assert ctx.served_natively
    assert response.body == b'{"native":true,"served_by":"g-0"}'
    assert client.calls == []  # the chat payload was never sent
    assert forwarder.bodies == [
        {**NATIVE_BODY, "model": "g-0-model"}
    ]  # the upstream's model, the rest as sent
    assert forwarder.headers == [{"anthropic-beta": "b1"}]
    assert metrics.counter("routeiq_prompt_tokens", model_group="g") == 4  # the native usage is accounted


def test_a_deployment_that_does_not_gets_the_chat_payload() -> None:
    gw, client, forwarder, _, _ = gateway([native_group(False)])
    ctx = request()
    anyio.run(gw.complete, ctx)
    assert not ctx.served_natively
    assert forwarder.calls == []
    assert client.payloads[0]["messages"] == [{"role": "user", "content": "hi"}]
    assert "x_unknown" not in client.payloads[0]


def test_a_call_without_a_native_body_never_reaches_a_forwarder() -> None:
    gw, client, forwarder, _, _ = gateway([native_group(True)])
    ctx = CallContext(operation=Operation.CHAT, model="g", payload={"model": "g", "messages": []})
    anyio.run(gw.complete, ctx)
    assert (client.calls, forwarder.calls, ctx.served_natively) == (["g-0"], [], False)


def test_a_protocol_without_a_forwarder_is_translated() -> None:
    gw, client, _, _, _ = gateway([native_group(True)])
    ctx = request(native=NativeRequest(protocol=NativeProtocol.RESPONSES, body={"model": "g"}))
    anyio.run(gw.complete, ctx)
    assert (client.calls, ctx.served_natively) == (["g-0"], False)


def test_a_fallback_may_cross_from_native_to_translated_and_back() -> None:
    gw, client, forwarder, _, _ = gateway([native_group(True, False)], {"g-0": [failure(503)]}, retries=1)
    ctx = request()
    response = anyio.run(gw.complete, ctx)
    assert (forwarder.calls, client.calls) == (["g-0"], ["g-1"])
    assert not ctx.served_natively  # the answer that came is a chat answer: the surface translates it
    assert response.route.deployment_id == "g-1"
    gw, client, forwarder, _, _ = gateway([native_group(False, True)], {"g-0": [failure(503)]}, retries=1)
    ctx = request()
    anyio.run(gw.complete, ctx)
    assert (client.calls, forwarder.calls, ctx.served_natively) == (["g-0"], ["g-1"], True)


def test_fallback_groups_cross_kinds_too() -> None:
    groups = [native_group(True, fallbacks=("chat",)), native_group(False, name="chat")]
    gw, client, forwarder, _, _ = gateway(groups, {"g-0": [failure(500)]}, retries=0)
    ctx = request()
    response = anyio.run(gw.complete, ctx)
    assert (forwarder.calls, client.calls, ctx.served_natively) == (["g-0"], ["chat-0"], False)
    assert response.route.model_group == "chat"


def test_a_continuation_goes_only_to_the_deployment_holding_the_conversation() -> None:
    native = NativeRequest(
        protocol=MESSAGES,
        body={"model": "g", "input": ["the whole conversation"]},
        continued_on="g-1",
        continuation={"model": "g", "previous_response_id": "resp_up1"},
    )
    assert native.body_for("g-0", "m0") == {"model": "m0", "input": ["the whole conversation"]}
    assert native.body_for("g-1", "m1") == {"model": "m1", "previous_response_id": "resp_up1"}
    gw, _, forwarder, _, _ = gateway([native_group(True, True)], {"g-0": [failure(503)]}, retries=1)
    anyio.run(gw.complete, request(native=native))
    assert [b.get("previous_response_id") for b in forwarder.bodies] == [None, "resp_up1"]


async def _drain(gw: Any, ctx: CallContext) -> tuple[list[bytes], Any]:
    stream = await gw.open_stream(ctx)
    chunks: list[bytes] = []
    try:
        async for chunk in stream.frames:
            chunks.append(chunk)
    finally:
        await stream.aclose()
    return chunks, stream


def test_a_native_stream_is_relayed_byte_for_byte_and_its_usage_merged() -> None:
    gw, _, _, metrics, _ = gateway([native_group(True)])
    ctx = request(stream=True)
    chunks, stream = anyio.run(_drain, gw, ctx)
    assert chunks == [*NATIVE_EVENTS, NATIVE_END]  # no [DONE], nothing rewritten
    assert DONE not in chunks
    assert stream.usage == Usage(prompt_tokens=4, completion_tokens=6, total_tokens=10)
    assert stream.events == 3
    assert metrics.counter("routeiq_completion_tokens", model_group="g") == 6


def test_a_native_stream_that_breaks_raises_for_the_surface_and_counts_against_the_deployment() -> None:
    gw, _, _, metrics, breakers = gateway([native_group(True)], {"g-0": ["cut"]}, threshold=1)
    ctx = request(stream=True)
    received: list[bytes] = []

    async def main() -> None:
        stream = await gw.open_stream(ctx)
        try:
            async for chunk in stream.frames:
                received.append(chunk)
        finally:
            await stream.aclose()

    with pytest.raises(UpstreamError, match="connection dropped"):
        anyio.run(main)
    assert received == list(NATIVE_EVENTS)  # what came before the break was relayed
    assert metrics.counter("routeiq_stream_failures", model_group="g", deployment="g-0") == 1
    assert not breakers.get("g-0").allow()  # the failure opened the breaker (threshold 1)


def test_a_native_stream_failing_before_its_first_chunk_fails_over_to_a_chat_stream() -> None:
    gw, client, _, _, _ = gateway([native_group(True, False)], {"g-0": [failure(502)]}, retries=1)
    ctx = request(stream=True)
    chunks, _ = anyio.run(_drain, gw, ctx)
    assert not ctx.served_natively
    assert client.calls == ["g-1"]
    assert chunks[-1] == DONE  # a chat stream, relayed as chat streams are


def test_merge_usage_keeps_each_count_the_later_report_lacks() -> None:
    start = Usage(prompt_tokens=13, completion_tokens=1, total_tokens=14)
    end = Usage(prompt_tokens=0, completion_tokens=7, total_tokens=7)
    assert merge_usage(None, start) == start
    assert merge_usage(start, end) == Usage(prompt_tokens=13, completion_tokens=7, total_tokens=20)
    assert merge_usage(end, start) == Usage(prompt_tokens=13, completion_tokens=1, total_tokens=14)
