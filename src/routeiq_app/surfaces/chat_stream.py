"""What the surfaces that translate a chat stream into their own events share: the framing loop.

A translator is fed the chat stream's bytes in any split; it cuts them into SSE events, hands each
to :meth:`ChatStreamTranslator._event`, and returns the bytes of the events that completed. When
the frames run out without the stream's end, :meth:`ChatStreamTranslator._fail` closes it with the
surface's error event.
"""

from __future__ import annotations

import abc


class ChatStreamTranslator(abc.ABC):
    """The buffer, the feed/close loop and the output of a chat-stream translator.

    Subclasses set :attr:`finished` once their last event is out, and append their frames to
    ``self._out``.
    """

    CUT_ERROR_TYPE = "api_error"
    """The error type of the event closing a stream that ended before it was complete."""

    def __init__(self) -> None:
        self._buffer = b""
        self._out: list[bytes] = []
        self.finished = False
        """True once the last event (the end, or an error) was emitted: nothing follows."""

    def feed(self, chunk: bytes) -> bytes:
        """The events the bytes ``chunk`` completes (empty when it completes none)."""
        if self.finished:
            return b""
        self._buffer += chunk
        *events, self._buffer = self._buffer.split(b"\n\n")
        for event in events:
            self._event(event)
        return self._take()

    def close(self) -> bytes:
        """The closing events, once the frames ran out (an error event if ``[DONE]`` never came)."""
        if self._buffer.strip():
            self._event(self._buffer)
            self._buffer = b""
        if not self.finished:
            self._fail("The upstream stream ended before it was complete.", self.CUT_ERROR_TYPE)
        return self._take()

    def _take(self) -> bytes:
        out, self._out = b"".join(self._out), []
        return out

    @abc.abstractmethod
    def _event(self, event: bytes) -> None:
        """Translate one chat SSE event."""

    @abc.abstractmethod
    def _fail(self, message: str, kind: str) -> None:
        """Close the stream with the surface's error event."""
