"""The use case and native forwarding: both shapes of a call; plugins that need the canonical one."""

from __future__ import annotations

import msgspec
import pytest

from routeiq_core.calls import CallCommand, CallRequest, Credentials
from routeiq_core.native import NativeProtocol, NativeRequest
from routeiq_core.providers import Operation
from tests.support.forwarders import ScriptedForwarder
from tests.support.providers import deployment
from tests.unit.calls.test_call_service import CHEAP, MASTER, Harness, Recording, answer

pytestmark = pytest.mark.anyio

NATIVE = frozenset({NativeProtocol.MESSAGES})


def native_command() -> CallCommand:
    chat = {"model": "g", "messages": [{"role": "user", "content": "hello there"}]}
    native = NativeRequest(protocol=NativeProtocol.MESSAGES, body={"model": "g", "x_unknown": 1})
    return CallCommand(
        operation=Operation.CHAT,
        credentials=Credentials(token=MASTER),
        request=CallRequest(payload=chat, native=native),
    )


async def test_a_native_answer_is_settled_and_priced_from_its_own_usage() -> None:
    forwarder = ScriptedForwarder()
    h = Harness(
        (deployment("g", 0, native=NATIVE, **CHEAP),), forwarders={NativeProtocol.MESSAGES: forwarder}
    )
    result = await answer(h.service, native_command())
    ctx = result.context
    assert ctx.served_natively
    assert msgspec.json.decode(result.body) == {"native": True, "served_by": "g-0"}
    assert forwarder.bodies == [{"model": "g-0-model", "x_unknown": 1}]
    assert h.client.calls == []
    assert ctx.cost == pytest.approx((4 * 1.0 + 6 * 2.0) / 1e6)
    report = await h.spent()
    assert (report.total.requests, report.total.prompt_tokens, report.total.completion_tokens) == (1, 4, 6)


async def test_with_plugins_the_call_is_translated_so_that_they_see_the_canonical_shape() -> None:
    forwarder = ScriptedForwarder()
    recorder = Recording()
    h = Harness(
        (deployment("g", 0, native=NATIVE),),
        plugins=(recorder,),
        forwarders={NativeProtocol.MESSAGES: forwarder},
    )
    result = await answer(h.service, native_command())
    assert not result.context.served_natively
    assert result.context.native is None
    assert (forwarder.calls, h.client.calls) == ([], ["g-0"])
    assert recorder.seen[0] == ("before_call", "g-0")
