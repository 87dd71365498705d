"""pii_guard: block or redact requests; redact answers, whole and streamed (entities split across chunks)."""

from __future__ import annotations

import msgspec
import pytest

from routeiq_adapters.metrics.memory import InMemoryMetrics
from routeiq_adapters.plugins import PiiGuardConfig, PiiGuardPlugin, PluginDeps
from routeiq_core.guardrails.errors import ContentPolicyViolation
from routeiq_core.guardrails.pii import PiiKind, redact
from routeiq_core.plugins.port import Capability, FailureMode
from tests.unit.plugins.helpers import chat, completion, frame, make_ctx, streamed_text, usage_frame

pytestmark = pytest.mark.anyio

EMAIL = "jane.doe@example.com"


def guard(deps: PluginDeps, **config: object) -> PiiGuardPlugin:
    return PiiGuardPlugin(msgspec.convert(config, PiiGuardConfig), deps)


async def test_redact_returns_a_new_payload_and_leaves_the_original_alone(deps: PluginDeps) -> None:
    payload = chat(f"mail {EMAIL} or call +44 20 7946 0958", system="You are helpful.")
    result = await guard(deps).before_request(make_ctx(payload))
    assert isinstance(result, dict)
    assert result["messages"][1]["content"] == "mail [REDACTED:EMAIL] or call [REDACTED:PHONE]"
    assert result["messages"][0] == payload["messages"][0]
    assert EMAIL in payload["messages"][1]["content"]


async def test_a_clean_request_is_not_modified(deps: PluginDeps) -> None:
    assert await guard(deps).before_request(make_ctx(chat("What is the capital of France?"))) is None


async def test_block_names_the_guard_and_kind_but_never_the_content(
    deps: PluginDeps, metrics: InMemoryMetrics
) -> None:
    ctx = make_ctx(chat(f"card 4111 1111 1111 1111 and {EMAIL}"))
    with pytest.raises(ContentPolicyViolation) as caught:
        await guard(deps, action="block").before_request(ctx)
    error = caught.value
    assert (error.guardrail, error.category, error.status_code) == ("pii_guard", "CREDIT_CARD", 400)
    assert error.code == "content_policy_violation"
    assert "4111" not in error.message
    assert EMAIL not in error.message
    assert metrics.counter("routeiq_guardrail_flags", guardrail="pii_guard", category="CREDIT_CARD") == 1


async def test_kinds_limit_what_is_found(deps: PluginDeps) -> None:
    plugin = guard(deps, action="block", kinds=["CREDIT_CARD"])
    assert await plugin.before_request(make_ctx(chat(f"write to {EMAIL}"))) is None


async def test_responses_are_left_alone_unless_enabled(deps: PluginDeps) -> None:
    body = completion(f"Contact {EMAIL}.")
    assert await guard(deps).after_response(make_ctx(chat("hi")), body) is None
    redacted = await guard(deps, responses=True).after_response(make_ctx(chat("hi")), body)
    assert redacted is not None
    assert msgspec.json.decode(redacted)["choices"][0]["message"]["content"] == "Contact [REDACTED:EMAIL]."


async def test_a_blocked_response_says_so(deps: PluginDeps) -> None:
    with pytest.raises(ContentPolicyViolation, match="The response was blocked by the 'pii_guard'"):
        await guard(deps, action="block", responses=True).after_response(
            make_ctx(chat("hi")), completion(f"Contact {EMAIL}.")
        )


async def run_stream(plugin: PiiGuardPlugin, chunks: list[bytes]) -> list[bytes]:
    ctx = make_ctx(chat("hi"), stream=True)
    out = [await plugin.on_stream_chunk(ctx, c) for c in chunks]
    return [*out, *await plugin.on_stream_end(ctx)]


async def test_an_email_split_across_two_chunks_is_redacted(deps: PluginDeps) -> None:
    text = f"Write to {EMAIL} today."
    cut = text.index("@") + 4
    chunks = [frame(role=True, content=""), frame(text[:cut]), frame(text[cut:]), frame(finish="stop")]
    out = await run_stream(guard(deps, responses=True), chunks)
    assert streamed_text(out) == {0: redact(text)[0]}
    assert EMAIL not in b"".join(out).decode()
    assert EMAIL.split("@")[0] not in b"".join(out).decode()


async def test_held_back_text_is_flushed_at_the_end_without_a_finish_frame(deps: PluginDeps) -> None:
    out = await run_stream(
        guard(deps, responses=True), [frame("Reach me at jane"), frame(".doe@example.com")]
    )
    assert streamed_text(out) == {0: "Reach me at [REDACTED:EMAIL]"}


async def test_several_frames_in_one_chunk_and_usage_frames_pass(deps: PluginDeps) -> None:
    chunk = frame("Hello ") + frame("there, ") + frame(f"{EMAIL}", finish="stop") + usage_frame(3, 4)
    out = await run_stream(guard(deps, responses=True), [chunk])
    assert streamed_text(out) == {0: "Hello there, [REDACTED:EMAIL]"}
    assert b'"usage"' in out[0]


async def test_choices_are_redacted_independently(deps: PluginDeps) -> None:
    chunks = [frame("a jane.doe@", index=0), frame("b bob@", index=1), frame("example.com", index=0)]
    chunks += [frame("example.org", index=1), frame(finish="stop", index=0), frame(finish="stop", index=1)]
    out = await run_stream(guard(deps, responses=True), chunks)
    assert streamed_text(out) == {0: "a [REDACTED:EMAIL]", 1: "b [REDACTED:EMAIL]"}


async def test_blocking_a_stream_stops_it_when_the_entity_completes(deps: PluginDeps) -> None:
    plugin = guard(deps, action="block", responses=True)
    ctx = make_ctx(chat("hi"), stream=True)
    await plugin.on_stream_chunk(ctx, frame("my mail is jane"))
    with pytest.raises(ContentPolicyViolation):
        await plugin.on_stream_chunk(ctx, frame(".doe@example.com", finish="stop"))


async def test_streams_pass_untouched_when_disabled(deps: PluginDeps) -> None:
    chunk = frame(f"{EMAIL}")
    assert (
        await guard(deps, responses=True, streams=False).on_stream_chunk(make_ctx({}, stream=True), chunk)
        == chunk
    )
    assert await guard(deps).on_stream_chunk(make_ctx({}, stream=True), chunk) == chunk


def test_capabilities_follow_the_config(deps: PluginDeps) -> None:
    assert guard(deps).spec.capabilities == {Capability.REQUEST_READ, Capability.REQUEST_MODIFY}
    assert guard(deps, action="block").spec.capabilities == {Capability.REQUEST_READ}
    assert Capability.RESPONSE_MODIFY in guard(deps, action="block", responses=True).spec.capabilities
    blocking_whole = guard(deps, action="block", responses=True, streams=False)
    assert blocking_whole.spec.capabilities == {Capability.REQUEST_READ, Capability.RESPONSE_READ}
    assert guard(deps).spec.failure_mode is FailureMode.ABORT
    assert guard(deps).config.kinds == tuple(PiiKind)
