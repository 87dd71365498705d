"""The stream translation: chat chunks in, the Responses event sequence out, well-formed whatever comes."""

from __future__ import annotations

import json
from typing import Any

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from routeiq_app.surfaces.responses.answers import OutputMessage, Response
from routeiq_app.surfaces.responses.stream import StreamTranslator, response_events
from routeiq_app.surfaces.responses.translate import response_shell, to_response
from routeiq_app.surfaces.responses.wire import ResponsesRequest
from routeiq_core.errors import UpstreamError
from routeiq_core.sse import DONE, error_frame, json_frame

PROPERTY = settings(max_examples=200, deadline=None)
REQUEST = ResponsesRequest(model="asked")
TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> bytes:
    choices = (
        []
        if delta is None and finish is None
        else [{"index": 0, "delta": delta or {}, "finish_reason": finish}]
    )
    return json_frame({"id": "chatcmpl-x", "model": "up", "choices": choices, **extra})


def tool(index: int, *, id: str | None = None, name: str | None = None, args: str | None = None) -> bytes:
    function = {k: v for k, v in (("name", name), ("arguments", args)) if v is not None}
    return chunk({"tool_calls": [{"index": index, **({"id": id} if id else {}), "function": function}]})


def translate(frames: list[bytes]) -> tuple[list[tuple[str, dict[str, Any]]], StreamTranslator]:
    translator = StreamTranslator(response_shell(REQUEST, "resp_x", "in_progress"))
    out = translator.start() + b"".join(translator.feed(f) for f in frames) + translator.close()
    return parse(out), translator


def parse(out: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for raw in out.decode().split("\n\n"):
        if raw:
            name_line, data_line = raw.split("\n")
            name, data = name_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: "))
            assert data["type"] == name
            events.append((name, data))
    return events


def check_well_formed(events: list[tuple[str, dict[str, Any]]]) -> None:
    """created, in_progress, (item added … item done)*, one terminal event; sequence numbers 0, 1, ..."""
    names = [n for n, _ in events]
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    assert names[:2] == ["response.created", "response.in_progress"]
    assert names[-1] in TERMINAL
    assert sum(names.count(t) for t in TERMINAL) == 1
    open_item: dict[str, Any] | None = None
    index = -1
    for name, data in events[2:-1]:
        if name == "response.output_item.added":
            assert open_item is None
            index += 1
            assert data["output_index"] == index
            open_item = data["item"]
            assert open_item["status"] == "in_progress"
            text = ""
        elif name == "response.output_item.done":
            assert open_item is not None
            assert data["output_index"] == index
            assert data["item"]["id"] == open_item["id"]
            open_item = None
        else:
            assert open_item is not None, name
            assert data["output_index"] == index
            assert data["item_id"] == open_item["id"]
            if name == "response.output_text.delta":
                assert open_item["type"] == "message"
                text += data["delta"]
            elif name == "response.output_text.done":
                assert data["text"] == text
            elif name == "response.function_call_arguments.delta":
                assert open_item["type"] == "function_call"
                text += data["delta"]
            elif name == "response.function_call_arguments.done":
                assert data["arguments"] == text
    final = events[-1][1]["response"]
    if names[-1] == "response.failed":
        assert final["status"] == "failed"
        assert final["error"]["message"]
    else:
        assert open_item is None
        assert final["status"] in ("completed", "incomplete")
        assert len(final["output"]) == index + 1


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
    events, translator = translate(frames)
    check_well_formed(events)
    names = [n for n, _ in events]
    assert names == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    final = events[-1][1]["response"]
    assert final["model"] == "up"
    assert final["usage"]["input_tokens"] == 9
    assert final["usage"]["total_tokens"] == 13
    assert [item["type"] for item in final["output"]] == ["message", "function_call", "function_call"]
    assert final["output"][1]["call_id"] == "call_a"
    assert final["output"][1]["arguments"] == '{"city": "Oslo"}'
    assert translator.response.status == "completed"


def test_cut_by_length_is_incomplete() -> None:
    events, _ = translate([chunk({"content": "a"}), chunk(finish="length"), DONE])
    check_well_formed(events)
    assert events[-1][0] == "response.incomplete"
    assert events[-1][1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_an_upstream_failure_mid_stream_is_response_failed() -> None:
    events, _translator = translate([chunk({"content": "a"}), error_frame(UpstreamError("boom"))])
    check_well_formed(events)
    assert events[-1][0] == "response.failed"
    assert events[-1][1]["response"]["error"]["message"] == "boom"
    events, _ = translate([chunk({"content": "a"})])  # ended before [DONE]
    assert events[-1][0] == "response.failed"


def test_interleaved_tool_fragments_fail() -> None:
    events, _ = translate([tool(0, id="a", name="f"), tool(1, id="b", name="g"), tool(0, args="{}"), DONE])
    check_well_formed(events)
    assert events[-1][0] == "response.failed"


def test_the_driver_stores_before_the_last_event() -> None:
    stored: list[Response] = []

    async def frames() -> Any:
        yield chunk({"content": "hi"})
        yield chunk(finish="stop")
        yield DONE

    async def save(response: Response) -> None:
        stored.append(response)

    async def run() -> list[bytes]:
        translator = StreamTranslator(response_shell(REQUEST, "resp_x", "in_progress"))
        out = []
        async for part in response_events(frames(), translator, save):
            out.append(part)
            if b"response.completed" in part:
                assert stored, "stored before the client hears of the end"
        return out

    out = anyio.run(run)
    assert parse(b"".join(out))[-1][0] == "response.completed"
    assert stored[0].status == "completed"


content = st.text(min_size=1, max_size=8)
pieces = st.one_of(
    content.map(lambda t: chunk({"content": t})),
    st.builds(
        lambda i, a: tool(i, id=f"call_{i}", name=f"f{i}", args=a), st.integers(0, 2), st.text(max_size=6)
    ),
    st.builds(lambda i, a: tool(i, args=a), st.integers(0, 2), st.text(max_size=6)),
    st.sampled_from(["stop", "length", "tool_calls"]).map(lambda f: chunk(finish=f)),
    st.just(chunk(usage={"prompt_tokens": 3, "completion_tokens": 2})),
    st.just(b": keep-alive\n\n"),
    st.just(b"data: not json\n\n"),
    st.just(error_frame(UpstreamError("mid-stream"))),
)


@PROPERTY
@given(
    frames=st.lists(pieces, max_size=12), done=st.booleans(), cuts=st.lists(st.integers(0, 4000), max_size=6)
)
def test_any_chunk_sequence_any_split_is_well_formed(
    frames: list[bytes], done: bool, cuts: list[int]
) -> None:
    data = b"".join(frames) + (DONE if done else b"")
    whole, _ = translate([data])
    positions = sorted({min(c, len(data)) for c in cuts})
    split = [data[a:b] for a, b in zip([0, *positions], [*positions, len(data)], strict=True)]
    events, _ = translate(split)
    check_well_formed(events)
    strip = [(n, {k: v for k, v in d.items() if k not in ("item_id", "item", "response")}) for n, d in events]
    assert strip == [
        (n, {k: v for k, v in d.items() if k not in ("item_id", "item", "response")}) for n, d in whole
    ]


@PROPERTY
@given(text=st.none() | content, args=st.lists(st.text(max_size=6), max_size=3))
def test_a_stream_means_what_the_same_answer_in_json_means(text: str | None, args: list[str]) -> None:
    frames = [chunk({"content": text})] if text else []
    calls = []
    for i, arg in enumerate(args):
        frames.append(tool(i, id=f"call_{i}", name=f"f{i}", args=arg))
        calls.append({"id": f"call_{i}", "function": {"name": f"f{i}", "arguments": arg}})
    frames += [chunk(finish="stop"), DONE]
    _, translator = translate(frames)
    message = {"content": text, "tool_calls": calls or None}
    body = json.dumps({"model": "up", "choices": [{"message": message, "finish_reason": "stop"}]}).encode()
    expected = to_response(body, REQUEST, "resp_x")

    def meaning(response: Response) -> list[Any]:
        return [
            ("text", item.content[0].text)
            if isinstance(item, OutputMessage)
            else ("call", item.call_id, item.name, item.arguments)
            for item in response.output
        ]

    assert meaning(translator.response) == meaning(expected)
