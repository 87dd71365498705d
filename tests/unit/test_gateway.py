"""The gateway use case: routing, retries, fallbacks, breakers, deadlines, streaming."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
import pytest

from routeiq_core.catalog import ModelGroup
from routeiq_core.context import CallContext
from routeiq_core.errors import InvalidRequestError, NotFoundError, ServiceUnavailableError, UpstreamError
from routeiq_core.gateway import Gateway
from routeiq_core.providers import Operation
from routeiq_core.resilience import (
    BreakerState,
)
from tests.support.gateways import make
from tests.support.providers import deployment, failure


def req(model: str = "g", stream: bool = False, tokens: int = 0, usage: bool = False) -> CallContext:
    payload = {"model": model, "messages": [{"role": "user", "content": "hi"}], "extra_field": [1]}
    return CallContext(
        operation=Operation.CHAT,
        model=model,
        payload=payload,
        stream=stream,
        estimated_prompt_tokens=tokens,
        client_wants_usage=usage,
    )


def group(name: str, n: int = 2, **kw: Any) -> ModelGroup:
    limits = kw.pop("limits", None)
    ds = tuple(deployment(name, i, max_context_tokens=limits) for i in range(n))
    return ModelGroup(name=name, deployments=ds, **kw)


def test_first_attempt_succeeds_and_payload_passes_through() -> None:
    gw, client, metrics, _, _ = make([group("g")])
    response = anyio.run(gw.complete, req())
    assert (response.route.deployment_id, response.route.attempts, response.route.strategy) == (
        "g-0",
        1,
        "in-order",
    )
    sent = client.payloads[0]
    assert sent["model"] == "g-0-model"
    assert sent["extra_field"] == [1]
    assert metrics.counter("routeiq_prompt_tokens", model_group="g") == 10


def test_retryable_failure_moves_to_the_next_deployment_with_backoff() -> None:
    gw, client, metrics, clock, breakers = make([group("g")], {"g-0": [failure(500)]})
    response = anyio.run(gw.complete, req())
    assert client.calls == ["g-0", "g-1"]
    assert response.route.attempts == 2
    assert metrics.counter("routeiq_retries") == 1
    assert len(clock.sleeps) == 1
    assert 0 <= clock.sleeps[0] <= 0.1
    assert breakers.get("g-0").consecutive_failures == 1


def test_retry_after_is_a_floor_on_the_backoff() -> None:
    gw, _, _, clock, _ = make([group("g")], {"g-0": [failure(429, retry_after=2.0)]})
    anyio.run(gw.complete, req())
    assert clock.sleeps == [2.0]


def test_client_error_is_not_retried() -> None:
    gw, client, _, _, breakers = make([group("g")], {"g-0": [failure(400)]})
    with pytest.raises(UpstreamError) as info:
        anyio.run(gw.complete, req())
    assert info.value.status_code == 400
    assert client.calls == ["g-0"]
    assert breakers.get("g-0").consecutive_failures == 0


def test_misconfigured_deployment_is_skipped() -> None:
    gw, _client, _, _, _ = make([group("g")], {"g-0": [failure(401)]})
    assert anyio.run(gw.complete, req()).route.deployment_id == "g-1"


def test_exhausted_retries_return_the_last_upstream_error() -> None:
    script = {"g-0": [failure(503)] * 5, "g-1": [failure(502)] * 5}
    gw, client, _, _, _ = make([group("g")], script)
    with pytest.raises(UpstreamError) as info:
        anyio.run(gw.complete, req())
    assert client.calls == ["g-0", "g-1", "g-0"]  # num_retries=2 -> 3 attempts
    assert info.value.status_code == 503


def test_fallback_group_serves_when_the_primary_fails() -> None:
    primary = group("a", n=1, fallbacks=("b",))
    gw, client, metrics, _, _ = make([primary, group("b", n=1)], {"a-0": [failure(500)] * 3}, retries=1)
    response = anyio.run(gw.complete, req("a"))
    assert (response.route.model_group, response.route.deployment_id) == ("b", "b-0")
    assert client.calls == ["a-0", "a-0", "b-0"]
    assert metrics.counter("routeiq_fallbacks", from_group="a", to_group="b") == 1


def test_unknown_model_lists_the_groups() -> None:
    gw, *_ = make([group("g"), group("h")])
    with pytest.raises(NotFoundError) as info:
        anyio.run(gw.complete, req("nope"))
    assert "Available models: g, h" in info.value.message


def test_long_prompt_goes_to_the_context_window_fallback() -> None:
    small = group("small", n=1, limits=100, context_window_fallbacks=("big",))
    gw, client, metrics, _, _ = make([small, group("big", n=1, limits=10_000)])
    assert anyio.run(gw.complete, req("small", tokens=500)).route.model_group == "big"
    assert client.calls == ["big-0"]
    assert metrics.counter("routeiq_context_window_fallbacks") == 1


def test_too_long_for_everything_is_a_400() -> None:
    gw, *_ = make([group("small", n=1, limits=100)])
    with pytest.raises(InvalidRequestError) as info:
        anyio.run(gw.complete, req("small", tokens=500))
    assert info.value.code == "context_length_exceeded"


def test_upstream_context_overflow_uses_the_context_window_fallback() -> None:
    small = group("small", n=1, context_window_fallbacks=("big",))
    overflow = failure(400, code="context_length_exceeded")
    gw, _client, _, _, _ = make([small, group("big", n=1)], {"small-0": [overflow]})
    assert anyio.run(gw.complete, req("small")).route.model_group == "big"


def test_breaker_opens_then_503_with_retry_after_then_half_open_probe_closes_it() -> None:
    gw, client, metrics, clock, breakers = make([group("g", n=1)], {"g-0": [failure(500)] * 3}, threshold=3)
    with pytest.raises(UpstreamError):
        anyio.run(gw.complete, req())
    assert breakers.get("g-0").state is BreakerState.OPEN
    calls_before = len(client.calls)
    with pytest.raises(ServiceUnavailableError) as info:
        anyio.run(gw.complete, req())
    assert len(client.calls) == calls_before  # nothing sent while open
    assert info.value.status_code == 503
    assert int(info.value.headers["Retry-After"]) >= 1
    clock.now += 31
    assert anyio.run(gw.complete, req()).route.deployment_id == "g-0"
    assert breakers.get("g-0").state is BreakerState.CLOSED
    moves = [p.labels["to_state"] for p in metrics.snapshot() if p.name == "routeiq_breaker_transitions"]
    assert sorted(moves) == ["closed", "half_open", "open"]


def test_deadline_stops_retrying() -> None:
    gw, client, _, _, _ = make([group("g")], {"g-0": [failure(429, retry_after=5)] * 3}, timeout=3.0)
    with pytest.raises(UpstreamError) as info:
        anyio.run(gw.complete, req())
    assert info.value.status_code == 408
    assert "deadline" in info.value.message
    assert client.calls == ["g-0"]


async def collect(gw: Gateway, request: CallContext) -> tuple[Any, list[bytes]]:
    stream = await gw.open_stream(request)
    return stream.route, [frame async for frame in stream.frames]


def test_stream_relays_frames_drops_unrequested_usage_and_ends_with_done() -> None:
    gw, client, metrics, _, _ = make([group("g")])
    _route, frames = anyio.run(collect, gw, req(stream=True))
    assert frames[-1] == b"data: [DONE]\n\n"
    assert len(frames) == 4  # a, b, c, DONE; the usage-only frame was accounted and dropped
    assert client.payloads[0]["stream_options"] == {"include_usage": True}
    assert metrics.counter("routeiq_completion_tokens") == 3
    assert client.closed_streams == 1


def test_stream_keeps_usage_frame_when_the_client_asked() -> None:
    gw, *_ = make([group("g")])
    _, frames = anyio.run(collect, gw, req(stream=True, usage=True))
    assert b'"usage"' in frames[-2]


def test_stream_fails_over_before_the_first_frame() -> None:
    gw, _client, *_ = make([group("g")], {"g-0": [failure(500)]})
    route, frames = anyio.run(collect, gw, req(stream=True))
    assert (route.deployment_id, route.attempts) == ("g-1", 2)
    assert frames[-1] == b"data: [DONE]\n\n"


def test_stream_cut_after_first_frame_ends_with_an_error_frame() -> None:
    gw, _client, metrics, _, breakers = make([group("g")], {"g-0": ["cut"]})
    _, frames = anyio.run(collect, gw, req(stream=True))
    last = msgspec.json.decode(frames[-1][len(b"data: ") :])
    assert last["error"]["message"] == "connection dropped"
    assert b"[DONE]" not in b"".join(frames)
    assert metrics.counter("routeiq_stream_failures") == 1
    assert breakers.get("g-0").consecutive_failures == 1


def test_stats_follow_outcomes_and_release_in_flight() -> None:
    gw, *_ = make([group("g")], {"g-0": [failure(500)]})
    anyio.run(gw.complete, req())
    failed, served = gw.stats.snapshot("g-0"), gw.stats.snapshot("g-1")
    assert (failed.in_flight, failed.total_failures, failed.error_rate) == (0, 1, 0.2)
    assert (served.in_flight, served.total_requests, served.tokens_last_minute) == (0, 1, 15)
    assert served.latency_ewma_s == 0.0


def test_stream_holds_its_in_flight_slot_until_it_ends() -> None:
    gw, *_ = make([group("g", n=1)])

    async def main() -> tuple[int, int, int]:
        stream = await gw.open_stream(req(stream=True))
        during = gw.stats.in_flight("g-0")
        frames = stream.frames.__aiter__()
        await frames.__anext__()
        still = gw.stats.in_flight("g-0")
        await stream.aclose()  # client went away mid-stream
        return during, still, gw.stats.in_flight("g-0")

    assert anyio.run(main) == (1, 1, 0)


def test_unconsumed_stream_is_released_by_aclose() -> None:
    gw, client, *_ = make([group("g", n=1)])

    async def main() -> int:
        stream = await gw.open_stream(req(stream=True))
        await stream.aclose()
        return gw.stats.in_flight("g-0")

    assert anyio.run(main) == 0
    assert client.closed_streams == 1


def test_a_chunk_of_several_frames_is_forwarded_whole_minus_the_usage_frame() -> None:
    gw, client, metrics, _, _ = make([group("g", n=1)])
    frame = b'data: {"choices":[{"delta":{"content":"x"}}]}\n\n'
    usage = b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n'

    async def batched(*args: Any, **kwargs: Any) -> Any:
        yield frame + frame
        yield frame + usage

    client.stream = batched  # type: ignore[method-assign]
    _, frames = anyio.run(collect, gw, req(stream=True))
    assert frames == [frame + frame, frame, b"data: [DONE]\n\n"]
    assert metrics.counter("routeiq_completion_tokens") == 2
