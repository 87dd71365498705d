"""An incremental reader of ``text/event-stream`` bodies (the WHATWG server-sent-events format).

Feed it the bytes as they arrive, in chunks of any size; it hands back every complete event. Lines may
end in CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the next are one line
ending); ``data`` lines of one event are joined with LF; comment lines (keep-alives) are skipped; the
``id`` field is remembered. Lines and events are bounded, so a hostile stream cannot grow memory.
"""

from __future__ import annotations

import msgspec

__all__ = ["SseError", "SseEvent", "SseParser"]

_BOM = b"\xef\xbb\xbf"


class SseError(ValueError):
    """The stream broke a bound (a line or an event too long)."""


class SseEvent(msgspec.Struct, frozen=True):
    """One dispatched event.

    Attributes:
        event: The ``event`` field (``message`` when the server named none).
        data: The ``data`` lines joined with LF.
        id: The last event id seen so far on the stream (None before any).
    """

    event: str
    data: bytes
    id: str | None


class SseParser:
    """Turns chunks of an event stream into :class:`SseEvent` values.

    Args:
        max_line_bytes: The longest line accepted.
        max_event_bytes: The most ``data`` one event may carry.
    """

    def __init__(
        self, *, max_line_bytes: int = 16 * 1024 * 1024, max_event_bytes: int = 16 * 1024 * 1024
    ) -> None:
        self._max_line = max_line_bytes
        self._max_event = max_event_bytes
        self._buffer = bytearray()
        self._skip_lf = False
        self._started = False
        self._data: list[bytes] = []
        self._data_size = 0
        self._event = ""
        self.last_event_id: str | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Take the next bytes of the stream and return the events they complete.

        Raises:
            SseError: A line or an event is longer than allowed.
        """
        if not self._started:
            self._buffer += chunk
            if len(self._buffer) < len(_BOM) and _BOM.startswith(bytes(self._buffer)):
                return []
            self._started = True
            chunk = bytes(self._buffer).removeprefix(_BOM)
            self._buffer.clear()
        events: list[SseEvent] = []
        for line in self._lines(chunk):
            event = self._take_line(line)
            if event is not None:
                events.append(event)
        return events

    def _lines(self, chunk: bytes) -> list[bytes]:
        if self._skip_lf and chunk:
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
            self._skip_lf = False
        lines: list[bytes] = []
        start, size = 0, len(chunk)
        cr, lf = chunk.find(b"\r"), chunk.find(b"\n")
        while cr >= 0 or lf >= 0:
            end = lf if cr < 0 else cr if lf < 0 else min(cr, lf)
            self._buffer += chunk[start:end]
            self._check_line()
            lines.append(bytes(self._buffer))
            self._buffer.clear()
            start = end + 1
            if end == cr:
                if start == size:
                    self._skip_lf = True
                elif chunk[start] == 0x0A:
                    start += 1
            if 0 <= cr < start:
                cr = chunk.find(b"\r", start)
            if 0 <= lf < start:
                lf = chunk.find(b"\n", start)
        self._buffer += chunk[start:]
        self._check_line()
        return lines

    def _check_line(self) -> None:
        if len(self._buffer) > self._max_line:
            raise SseError(f"an event-stream line is longer than {self._max_line} bytes")

    def _take_line(self, line: bytes) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(b":"):
            return None
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._data_size += len(value) + 1
            if self._data_size > self._max_event:
                raise SseError(f"an event is larger than {self._max_event} bytes")
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id" and b"\x00" not in value:
            self.last_event_id = value.decode("utf-8", "replace")
        return None

    def _dispatch(self) -> SseEvent | None:
        data, event = self._data, self._event
        self._data, self._data_size, self._event = [], 0, ""
        if not data:
            return None
        return SseEvent(event=event or "message", data=b"\n".join(data), id=self.last_event_id)
