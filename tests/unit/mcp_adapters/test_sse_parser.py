"""The event-stream reader of the MCP upstream adapters: framing, fields, bounds, any chunking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routeiq_adapters.mcp._sse import SseError, SseEvent, SseParser

STREAM = (
    b"\xef\xbb\xbf: keep-alive\r\n\r\n"
    b'event: message\r\nid: 7\r\ndata: {"a":\r\ndata:1}\r\n\r\n'
    b": ping\n\n"
    b"data:  two spaces\rid: 8\r\r"
    b"retry: 100\nunknown: field\ndata\n\n"
    b"event: other\ndata: x\n\n"
    b"id: a\x00b\ndata: nul id ignored\n\n"
)
EXPECTED = [
    SseEvent(event="message", data=b'{"a":\n1}', id="7"),
    SseEvent(event="message", data=b" two spaces", id="8"),
    SseEvent(event="message", data=b"", id="8"),
    SseEvent(event="other", data=b"x", id="8"),
    SseEvent(event="message", data=b"nul id ignored", id="8"),
]


def _feed_all(chunks: list[bytes], **bounds: int) -> list[SseEvent]:
    parser = SseParser(**bounds)
    return [event for chunk in chunks for event in parser.feed(chunk)]


def test_whole_stream_in_one_chunk() -> None:
    assert _feed_all([STREAM]) == EXPECTED


def test_byte_by_byte() -> None:
    assert _feed_all([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert _feed_all(chunks) == EXPECTED


def test_cr_at_chunk_end_then_lf_is_one_line_end() -> None:
    assert _feed_all([b"data: a\r", b"\n\r", b"\n"]) == [SseEvent(event="message", data=b"a", id=None)]


def test_incomplete_event_is_not_dispatched() -> None:
    assert _feed_all([b"data: pending\n"]) == []


def test_event_name_resets_after_dispatch() -> None:
    events = _feed_all([b"event: a\ndata: 1\n\ndata: 2\n\n"])
    assert [e.event for e in events] == ["a", "message"]


def test_line_bound() -> None:
    with pytest.raises(SseError):
        _feed_all([b"data: " + b"x" * 100], max_line_bytes=64)


def test_line_bound_across_chunks() -> None:
    with pytest.raises(SseError):
        _feed_all([b"data: " + b"x" * 40, b"y" * 40], max_line_bytes=64)


def test_event_bound() -> None:
    with pytest.raises(SseError):
        _feed_all([b"data: 0123456789\n" * 10], max_event_bytes=64)


def test_many_small_events_within_bound() -> None:
    events = _feed_all([b"data: 0123456789\n\n" * 10], max_event_bytes=64)
    assert len(events) == 10


def test_empty_chunk_between_cr_and_lf() -> None:
    assert _feed_all([b"data: a\r", b"", b"\n", b"\n"]) == [SseEvent(event="message", data=b"a", id=None)]
