"""A chat completion stream as Anthropic's Messages event sequence.

``message_start`` (with the prompt estimate as ``input_tokens``), then per content block
``content_block_start`` / ``content_block_delta`` (``text_delta``, ``input_json_delta``) /
``content_block_stop``, one block at a time (text, then each tool call in turn), then
``message_delta`` (stop reason, final usage) and ``message_stop``. An error frame, an event that is
not a chunk, or a stream that ends before ``[DONE]`` ends it with an ``error`` event instead. So does
a tool call's fragment arriving after a later block began (no OpenAI-compatible server interleaves
them, and Anthropic's blocks cannot).

:class:`StreamTranslator` is a plain state machine (bytes in, bytes out), so it is tested without
a server; :func:`anthropic_events` drives it over a call's frames.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

from routeiq_app.surfaces.anthropic.answers import (
    AnthropicError,
    AnthropicErrorDetail,
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    DeltaUsage,
    InputJsonDelta,
    Message,
    MessageDelta,
    MessageStart,
    MessageStop,
    MessageUsage,
    StopInfo,
    StreamEvent,
    TextContent,
    TextDelta,
    ToolUseContent,
    event_frame,
)
from routeiq_app.surfaces.anthropic.chat import CHUNK, ChatChunk, ChatUsage, ChunkChoice, ToolCallDelta
from routeiq_app.surfaces.anthropic.errors import error_type_of
from routeiq_app.surfaces.anthropic.translate import message_id, stop_reason, tool_use_id, usage
from routeiq_app.surfaces.chat_stream import ChatStreamTranslator

_DONE = b"[DONE]"


class StreamTranslator(ChatStreamTranslator):
    """Feed it a chat stream's bytes (any split); it returns the Anthropic events they complete.

    Args:
        model: The model named in ``message_start`` until the upstream names its own.
        input_tokens: The prompt estimate ``message_start`` reports (the real count follows in
            ``message_delta`` when the upstream reports usage).
        stop_sequences: The request's, to tell a stop sequence from a natural end.
        request_id: Quoted in an ``error`` event.
    """

    def __init__(
        self, *, model: str, input_tokens: int, stop_sequences: list[str], request_id: str | None = None
    ) -> None:
        super().__init__()
        self._model = model
        self._input_tokens = input_tokens
        self._stop_sequences = stop_sequences
        self._request_id = request_id
        self._started = False
        self._index = -1  # the last block's index (-1: none yet)
        self._block_open = False
        self._open_tool: int | None = None  # the OpenAI index of the open tool call
        self._tools_seen: set[int] = set()
        self._text = ""
        self._finish: str | None = None
        self._matched: str | int | None = None
        self._usage: ChatUsage | None = None
        self._deltas = 0

    def _emit(self, event: StreamEvent) -> None:
        self._out.append(event_frame(event))

    def _event(self, event: bytes) -> None:
        if self.finished:  # nothing follows message_stop or an error
            return
        lines = [line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:")]
        if not lines:
            return  # a comment or keep-alive
        data = b"".join(lines)
        if data == _DONE:
            self._done()
            return
        try:
            chunk = CHUNK.decode(data)
        except msgspec.DecodeError:
            self._fail("The upstream sent an event that is not a chat completion chunk.", "api_error")
            return
        if chunk.error is not None:
            self._fail(chunk.error.message, error_type_of(chunk.error.type))
            return
        self._start(chunk)
        if chunk.usage is not None:
            self._usage = chunk.usage
        for choice in chunk.choices:
            if choice.index == 0:
                self._choice(choice)

    def _start(self, chunk: ChatChunk) -> None:
        if self._started:
            return
        self._started = True
        message = Message(
            id=message_id(chunk.id),
            model=chunk.model or self._model,
            content=[],
            usage=MessageUsage(input_tokens=self._input_tokens),
        )
        self._emit(MessageStart(message=message))

    def _choice(self, choice: ChunkChoice) -> None:
        delta = choice.delta
        if delta.content:
            self._text_delta(delta.content)
        for call in delta.tool_calls or ():
            self._tool_delta(call)
            if self.finished:
                return
        if choice.finish_reason is not None:
            self._finish = choice.finish_reason
            self._matched = choice.stop_reason
            self._close_block()

    def _text_delta(self, text: str) -> None:
        if not self._block_open or self._open_tool is not None:
            self._open(TextContent(text=""))
        self._text += text
        self._deltas += 1
        self._emit(ContentBlockDelta(index=self._index, delta=TextDelta(text=text)))

    def _tool_delta(self, call: ToolCallDelta) -> None:
        if call.index != self._open_tool:
            if call.index in self._tools_seen:
                self._fail("The upstream interleaved the fragments of its tool calls.", "api_error")
                return
            self._tools_seen.add(call.index)
            name = call.function.name if call.function is not None else None
            self._open(ToolUseContent(id=call.id or tool_use_id(), name=name or "", input={}))
            self._open_tool = call.index
        arguments = call.function.arguments if call.function is not None else None
        if arguments:
            self._deltas += 1
            self._emit(ContentBlockDelta(index=self._index, delta=InputJsonDelta(partial_json=arguments)))

    def _open(self, block: TextContent | ToolUseContent) -> None:
        self._close_block()
        self._index += 1
        self._open_tool = None
        self._emit(ContentBlockStart(index=self._index, content_block=block))
        self._block_open = True

    def _close_block(self) -> None:
        if self._block_open:
            self._emit(ContentBlockStop(index=self._index))
            self._block_open = False
        self._open_tool = None

    def _done(self) -> None:
        if not self._started:
            self._start(ChatChunk())
        self._close_block()
        reason, sequence = stop_reason(self._finish, self._matched, self._text, self._stop_sequences)
        reported = self._usage
        if reported is None:
            final = DeltaUsage(output_tokens=self._deltas)
        else:
            translated = usage(reported)
            final = DeltaUsage(
                output_tokens=translated.output_tokens,
                input_tokens=translated.input_tokens,
                cache_read_input_tokens=translated.cache_read_input_tokens or None,
            )
        self._emit(MessageDelta(delta=StopInfo(stop_reason=reason, stop_sequence=sequence), usage=final))
        self._emit(MessageStop())
        self.finished = True

    def _fail(self, message: str, kind: str) -> None:
        self._out.append(
            event_frame(
                AnthropicError(
                    error=AnthropicErrorDetail(type=kind, message=message), request_id=self._request_id
                )
            )
        )
        self.finished = True


async def anthropic_events(
    frames: AsyncIterator[bytes], translator: StreamTranslator
) -> AsyncIterator[bytes]:
    """The Anthropic events of a call's chat frames, as they complete."""
    async for chunk in frames:
        out = translator.feed(chunk)
        if out:
            yield out
        if translator.finished:
            return
    yield translator.close()
