"""The stream translation: chat chunks in, Anthropic's event sequence out, well-formed whatever comes."""

from __future__ import annotations

import itertools
import json
from typing import Any

import anyio
import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from routeiq_app.surfaces.anthropic.stream import StreamTranslator, anthropic_events
from routeiq_core.errors import UpstreamError
from routeiq_core.sse import DONE, error_frame, json_frame

PROPERTY = settings(max_examples=200, deadline=None)


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> bytes:
    choices = (
        []
        if delta is None and finish is None
        else [{"index": 0, "delta": delta or {}, "finish_reason": finish}]
    )
    return json_frame({"id": "chatcmpl-x", "model": "up", "choices": choices, **extra})


def tool(index: int, *, id: str | None = None, name: str | None = None, args: str | None = None) -> bytes:
    function = {k: v for k, v in (("name", name), ("arguments", args)) if v is not None}
    call = {"index": index, **({"id": id} if id else {}), "function": function}
    return chunk({"tool_calls": [call]})


def translate(frames: list[bytes], **kw: Any) -> list[tuple[str, dict[str, Any]]]:
    translator = StreamTranslator(
        model="asked", input_tokens=7, stop_sequences=kw.pop("stop", []), request_id="r"
    )
    out = b"".join(translator.feed(f) for f in frames) + translator.close()
    return parse(out)


def parse(out: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for raw in out.decode().split("\n\n"):
        if not raw:
            continue
        name_line, data_line = raw.split("\n")
        name, data = name_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: "))
        assert data["type"] == name
        events.append((name, data))
    return events


def check_well_formed(events: list[tuple[str, dict[str, Any]]]) -> None:
    """start, (block_start delta* block_stop)*, message_delta, message_stop; or an error, last."""
    names = [n for n, _ in events]
    assert names, "a stream always ends with message_stop or an error"
    assert names[-1] in ("message_stop", "error")
    assert names.count("error") <= 1
    assert names.count("message_stop") <= 1
    if names[0] != "error":
        assert names[0] == "message_start"
        assert names.count("message_start") == 1
    open_block: dict[str, Any] | None = None
    expected_index = 0
    for name, data in events[1:]:
        if name == "content_block_start":
            assert open_block is None
            assert data["index"] == expected_index
            open_block = data["content_block"]
            expected_index += 1
        elif name == "content_block_delta":
            assert open_block is not None
            assert data["index"] == expected_index - 1
            kind = {"text": "text_delta", "tool_use": "input_json_delta"}[open_block["type"]]
            assert data["delta"]["type"] == kind
        elif name == "content_block_stop":
            assert open_block is not None
            assert data["index"] == expected_index - 1
            open_block = None
        elif name == "message_delta":
            assert open_block is None
            assert names[-1] == "message_stop"
            assert names[-2] == "message_delta"
    if names[-1] == "message_stop":
        assert open_block is None


def accumulate(events: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    blocks: list[Any] = []
    for name, data in events:
        if name == "content_block_start":
            block = data["content_block"]
            blocks.append(
                ["text", ""] if block["type"] == "text" else ["tool", block["id"], block["name"], ""]
            )
        elif name == "content_block_delta":
            delta = data["delta"]
            blocks[-1][-1] += delta.get("text", delta.get("partial_json", ""))
    return blocks


def test_text_then_tool_calls() -> None:
    frames = [
        chunk({"role": "assistant", "content": "Let"}),
        chunk({"content": " me."}),
        tool(0, id="call_a", name="weather", args='{"ci'),
        tool(0, args='ty": "Oslo"}'),
        tool(1, id="call_b", name="time", args="{}"),
        chunk(finish="tool_calls"),
        chunk(usage={"prompt_tokens": 9, "completion_tokens": 4}),
        DONE,
    ]
    events = translate(frames)
    check_well_formed(events)
    start = events[0][1]["message"]
    assert (start["id"], start["model"], start["usage"]["input_tokens"]) == ("msg_x", "up", 7)
    assert accumulate(events) == [
        ["text", "Let me."],
        ["tool", "call_a", "weather", '{"city": "Oslo"}'],
        ["tool", "call_b", "time", "{}"],
    ]
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert delta["usage"] == {"output_tokens": 4, "input_tokens": 9}


def test_a_stop_sequence_vllm_names() -> None:
    frames = [
        chunk({"content": "a"}),
        json_frame({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "END"}]}),
        DONE,
    ]
    events = translate(frames, stop=["END"])
    assert events[-2][1]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "END"}
    assert events[-2][1]["usage"] == {"output_tokens": 1}  # no usage reported: one per delta


def test_frames_split_anywhere_translate_the_same() -> None:
    whole = b"".join([chunk({"content": "Hello"}), chunk({"content": " there"}), chunk(finish="stop"), DONE])
    expected = translate([whole])
    pieces = [whole[i : i + 7] for i in range(0, len(whole), 7)]
    assert [n for n, _ in translate(pieces)] == [n for n, _ in expected]
    assert accumulate(translate(pieces)) == [["text", "Hello there"]]


def test_an_error_frame_ends_the_stream_with_an_error_event() -> None:
    failure = error_frame(UpstreamError("upstream fell over", status_code=502))
    events = translate([chunk({"content": "Hi"}), failure, chunk({"content": "never"})])
    check_well_formed(events)
    assert events[-1] == (
        "error",
        {"type": "error", "error": {"type": "api_error", "message": "upstream fell over"}, "request_id": "r"},
    )


def test_a_stream_cut_before_done_ends_with_an_error() -> None:
    events = translate([chunk({"content": "Hi"})])
    check_well_formed(events)
    assert events[-1][0] == "error"


def test_garbage_and_interleaved_tool_calls_end_with_an_error() -> None:
    assert translate([b"data: {not json\n\n"])[-1][0] == "error"
    interleaved = [
        tool(0, id="a", name="f", args="{"),
        tool(1, id="b", name="g", args="{"),
        tool(0, args="}"),
    ]
    events = translate([*interleaved, DONE])
    check_well_formed(events)
    assert events[-1][1]["error"]["message"].startswith("The upstream interleaved")


def test_keep_alive_comments_are_skipped_and_an_empty_stream_is_a_message() -> None:
    events = translate([b": keep-alive\n\n", DONE])
    check_well_formed(events)
    assert [n for n, _ in events] == ["message_start", "message_delta", "message_stop"]
    assert events[0][1]["message"]["model"] == "asked"


def test_the_async_driver_stops_after_the_last_event() -> None:
    async def frames() -> Any:
        for frame in (chunk({"content": "a"}), DONE, chunk({"content": "after"})):
            yield frame

    async def collect() -> bytes:
        translator = StreamTranslator(model="m", input_tokens=1, stop_sequences=[])
        return b"".join([e async for e in anthropic_events(frames(), translator)])

    events = parse(anyio.run(collect))
    check_well_formed(events)
    assert accumulate(events) == [["text", "a"]]


fragments = st.text(max_size=6)
stream_events = st.one_of(
    st.builds(lambda t: ("text", t), fragments),
    st.builds(lambda i, a: ("tool", i, a), st.integers(0, 3), fragments),
    st.builds(lambda f: ("finish", f), st.sampled_from(["stop", "length", "tool_calls", "content_filter"])),
    st.builds(lambda n: ("usage", n), st.integers(0, 100)),
    st.just(("comment",)),
)
endings = st.sampled_from(["done", "error", "garbage", "cut"])


def render(events: list[Any], ending: str) -> bytes:
    out = []
    seen: set[int] = set()
    for event in events:
        if event[0] == "text":
            out.append(chunk({"content": event[1]}))
        elif event[0] == "tool":
            first = event[1] not in seen
            seen.add(event[1])
            out.append(
                tool(
                    event[1],
                    id=f"call_{event[1]}" if first else None,
                    name="f" if first else None,
                    args=event[2],
                )
            )
        elif event[0] == "finish":
            out.append(chunk(finish=event[1]))
        elif event[0] == "usage":
            out.append(chunk(usage={"prompt_tokens": 3, "completion_tokens": event[1]}))
        else:
            out.append(b": keep-alive\n\n")
    out.append(
        {"done": DONE, "error": error_frame(UpstreamError("x")), "garbage": b"data: [\n\n", "cut": b""}[
            ending
        ]
    )
    return b"".join(out)


@PROPERTY
@given(
    events=st.lists(stream_events, max_size=25),
    ending=endings,
    cuts=st.lists(st.integers(0, 2000), max_size=8),
)
def test_any_chunk_sequence_yields_a_well_formed_event_sequence(
    events: list[Any], ending: str, cuts: list[int]
) -> None:
    whole = render(events, ending)
    bounds = sorted({0, len(whole), *(c % (len(whole) + 1) for c in cuts)})
    pieces = [whole[a:b] for a, b in itertools.pairwise(bounds)]
    out = translate(pieces)
    check_well_formed(out)
    assert (out[-1][0] == "message_stop") == (ending == "done" and not _interleaves(events))


@PROPERTY
@given(events=st.lists(stream_events.filter(lambda e: e[0] != "finish"), max_size=25))
def test_sequential_streams_keep_their_content(events: list[Any]) -> None:
    """Tool fragments in order (as every OpenAI-compatible server sends them): nothing is lost."""
    if _interleaves(events):
        return
    out = translate([render([*events, ("finish", "stop")], "done")])
    assert out[-1][0] == "message_stop"
    tools: list[Any] = []
    for event in events:
        if event[0] == "tool":
            if not tools or tools[-1][1] != f"call_{event[1]}":
                tools.append(["tool", f"call_{event[1]}", "f", ""])
            tools[-1][3] += event[2]
    blocks = accumulate(out)
    assert "".join(b[1] for b in blocks if b[0] == "text") == "".join(e[1] for e in events if e[0] == "text")
    assert [b for b in blocks if b[0] == "tool"] == tools


def _interleaves(events: list[Any]) -> bool:
    """Whether a tool call's fragment comes after another block began (or after a finish)."""
    order: list[Any] = []
    for event in events:
        if event[0] == "tool":
            key: Any = ("tool", event[1])
        elif event[0] == "text" and event[1]:
            key = ("text",)
        elif event[0] == "finish":
            key = ("finish",)
        else:
            continue
        if order and order[-1] == key:
            continue
        if key[0] == "tool" and key in order:
            return True
        order.append(key)
    return False


def test_decoding_the_events_with_msgspec() -> None:
    """Every event is valid JSON with the type its ``event:`` line names (checked in ``parse``)."""
    raw = b"".join([chunk({"content": "x"}), DONE])
    translator = StreamTranslator(model="m", input_tokens=0, stop_sequences=[])
    assert (
        msgspec.json.decode(translator.feed(raw).split(b"data: ", 1)[1].split(b"\n", 1)[0])["type"]
        == "message_start"
    )
