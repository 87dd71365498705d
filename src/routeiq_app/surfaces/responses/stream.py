"""A chat completion stream as the Responses API's typed event sequence.

``response.created`` and ``response.in_progress`` first (before the upstream's first byte), then per
output item ``response.output_item.added``; for the message ``response.content_part.added``,
``response.output_text.delta`` ..., ``response.output_text.done``, ``response.content_part.done``;
for a function call ``response.function_call_arguments.delta`` ..., ``.done``; then
``response.output_item.done``. One item at a time (text, then each tool call in turn); the end is
``response.completed`` (``response.incomplete`` when cut by length) carrying the whole response.
An error frame, an event that is not a chunk, interleaved tool call fragments or a stream that ends
before ``[DONE]`` end it with ``response.failed`` instead. Every event has its ``sequence_number``.

:class:`StreamTranslator` is a plain state machine (bytes in, bytes out), tested without a server;
:func:`response_events` drives it over a call's frames.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec

from routeiq_app.surfaces.anthropic.chat import CHUNK, ChatChunk, ChatUsage, ChunkChoice, ToolCallDelta
from routeiq_app.surfaces.chat_stream import ChatStreamTranslator
from routeiq_app.surfaces.responses.answers import (
    FunctionCall,
    OutputMessage,
    OutputTextPart,
    Response,
    ResponseError,
    ResponseUsage,
    StreamEvent,
)
from routeiq_app.surfaces.responses.translate import finish, new_id, usage
from routeiq_core.sse import named_frame

_DONE = b"[DONE]"
_ENCODER = msgspec.json.Encoder()


class StreamTranslator(ChatStreamTranslator):
    """Feed it a chat stream's bytes (any split); it returns the Responses events they complete.

    Args:
        response: The response shell (id, model, the request's settings); filled in as output comes.
    """

    CUT_ERROR_TYPE = "server_error"

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response
        """The response as streamed so far; complete once :attr:`finished`."""
        self._sequence = 0
        self._message: OutputMessage | None = None
        self._call: FunctionCall | None = None
        self._open_tool: int | None = None
        self._tools_seen: set[int] = set()
        self._finish: str | None = None
        self._usage: ChatUsage | None = None
        self._deltas = 0
        self._pieces: list[str] = []  # the open item's text or arguments so far (joined once)

    def start(self) -> bytes:
        """``response.created`` and ``response.in_progress``."""
        self._emit(StreamEvent(type="response.created", sequence_number=0, response=self.response))
        self._emit(StreamEvent(type="response.in_progress", sequence_number=0, response=self.response))
        return self._take()

    def _emit(self, event: StreamEvent) -> None:
        event.sequence_number = self._sequence
        self._sequence += 1
        self._out.append(named_frame(event.type, _ENCODER.encode(event)))

    def _event(self, event: bytes) -> None:
        if self.finished:
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
            self._fail("The upstream sent an event that is not a chat completion chunk.", "server_error")
            return
        if chunk.error is not None:
            self._fail(chunk.error.message, chunk.error.type or "server_error")
            return
        self._chunk(chunk)

    def _chunk(self, chunk: ChatChunk) -> None:
        if chunk.model:
            self.response.model = chunk.model
        if chunk.usage is not None:
            self._usage = chunk.usage
        for choice in chunk.choices:
            if choice.index == 0:
                self._choice(choice)
                if self.finished:
                    return

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
            self._close_item()

    def _text_delta(self, text: str) -> None:
        message = self._message
        if message is None:
            self._close_item()
            message = self._message = OutputMessage(id=new_id("msg"), status="in_progress", content=[])
            index = self._add(message)
            part = OutputTextPart(text="")
            self._emit(self._at("response.content_part.added", index, message.id, part=part, content_index=0))
            message.content.append(OutputTextPart(text=""))
        self._pieces.append(text)
        self._deltas += 1
        index = len(self.response.output) - 1
        self._emit(
            self._at(
                "response.output_text.delta", index, message.id, delta=text, content_index=0, logprobs=[]
            )
        )

    def _tool_delta(self, delta: ToolCallDelta) -> None:
        if delta.index != self._open_tool:
            if delta.index in self._tools_seen:
                self._fail("The upstream interleaved the fragments of its tool calls.", "server_error")
                return
            self._close_item()
            self._tools_seen.add(delta.index)
            name = delta.function.name if delta.function is not None else None
            call = FunctionCall(
                id=new_id("fc"),
                call_id=delta.id or new_id("call"),
                name=name or "",
                arguments="",
                status="in_progress",
            )
            self._call, self._open_tool = call, delta.index
            self._add(call)
        else:
            assert self._call is not None
            call = self._call
        arguments = delta.function.arguments if delta.function is not None else None
        if arguments:
            self._pieces.append(arguments)
            self._deltas += 1
            index = len(self.response.output) - 1
            self._emit(self._at("response.function_call_arguments.delta", index, call.id, delta=arguments))

    def _add(self, item: OutputMessage | FunctionCall) -> int:
        self.response.output.append(item)
        index = len(self.response.output) - 1
        self._emit(
            StreamEvent(type="response.output_item.added", sequence_number=0, output_index=index, item=item)
        )
        return index

    def _at(self, kind: str, index: int, item_id: str, **fields: Any) -> StreamEvent:
        """An event about the item at ``index`` (the sequence number is set when it is emitted)."""
        return StreamEvent(type=kind, sequence_number=0, output_index=index, item_id=item_id, **fields)

    def _settle_pieces(self) -> None:
        """Put the open item's text or arguments into it."""
        if self._message is not None:
            self._message.content[0].text = "".join(self._pieces)
        elif self._call is not None:
            self._call.arguments = "".join(self._pieces)
        self._pieces = []

    def _close_item(self) -> None:
        index = len(self.response.output) - 1
        self._settle_pieces()
        message, call = self._message, self._call
        if message is not None:
            part = message.content[0]
            self._emit(
                self._at(
                    "response.output_text.done",
                    index,
                    message.id,
                    text=part.text,
                    content_index=0,
                    logprobs=[],
                )
            )
            self._emit(self._at("response.content_part.done", index, message.id, part=part, content_index=0))
            message.status = "completed"
            self._emit(
                StreamEvent(
                    type="response.output_item.done", sequence_number=0, output_index=index, item=message
                )
            )
        elif call is not None:
            self._emit(
                self._at("response.function_call_arguments.done", index, call.id, arguments=call.arguments)
            )
            call.status = "completed"
            self._emit(
                StreamEvent(
                    type="response.output_item.done", sequence_number=0, output_index=index, item=call
                )
            )
        self._message = self._call = self._open_tool = None

    def _done(self) -> None:
        self._close_item()
        response = self.response
        reported = usage(self._usage)
        response.usage = (
            reported
            if reported is not None
            else ResponseUsage(output_tokens=self._deltas, total_tokens=self._deltas)
        )
        finish(response, self._finish)
        kind = "response.incomplete" if response.status == "incomplete" else "response.completed"
        self._emit(StreamEvent(type=kind, sequence_number=0, response=response))
        self.finished = True

    def _fail(self, message: str, code: str) -> None:
        self._settle_pieces()
        response = self.response
        response.status = "failed"
        response.error = ResponseError(code=code, message=message)
        self._emit(StreamEvent(type="response.failed", sequence_number=0, response=response))
        self.finished = True


async def response_events(
    frames: AsyncIterator[bytes],
    translator: StreamTranslator,
    on_finished: Callable[[Response], Awaitable[None]] | None = None,
) -> AsyncIterator[bytes]:
    """The Responses events of a call's chat frames, as they complete.

    ``on_finished`` hears the finished response (not a failed one) before the last events are
    written, so a client that continues the conversation at once finds it stored.
    """
    yield translator.start()
    async for chunk in frames:
        out = translator.feed(chunk)
        if translator.finished:
            await _finished(translator, on_finished)
            yield out
            return
        if out:
            yield out
    out = translator.close()
    await _finished(translator, on_finished)
    yield out


async def _finished(
    translator: StreamTranslator, on_finished: Callable[[Response], Awaitable[None]] | None
) -> None:
    if on_finished is not None and translator.response.status != "failed":
        await on_finished(translator.response)
