"""Pages of the request log: the opaque cursor and the page a query's rows make."""

from __future__ import annotations

import base64
import binascii
import math

import msgspec

from routeiq_core.errors import InvalidRequestError
from routeiq_core.request_log import MAX_PAGE_SIZE, RequestPage, RequestRecord

MAX_CURSOR_CHARS = 128
MAX_ID = 2**63 - 1

Position = tuple[float, int]
"""Where a record sits in the newest-first order: ``(at, id)``."""


def encode_cursor(position: Position) -> str:
    """The opaque ``next_cursor`` naming ``position`` (the last record of a page)."""
    return base64.urlsafe_b64encode(msgspec.json.encode(position)).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names.

    Raises:
        InvalidRequestError: 400 when it is not a cursor this log returned.
    """
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = msgspec.json.decode(raw, type=tuple[float, int])
        if not (math.isfinite(at) and 0 <= row_id <= MAX_ID):
            raise ValueError("out of range")
    except (ValueError, binascii.Error, msgspec.DecodeError):
        raise InvalidRequestError(
            "cursor is not a next_cursor this endpoint returned; start again without it.", param="cursor"
        ) from None
    return at, row_id


def page_size(limit: int) -> int:
    """``limit`` brought into 1 to :data:`MAX_PAGE_SIZE`."""
    return min(max(limit, 1), MAX_PAGE_SIZE)


def page_of(rows: list[tuple[int, RequestRecord]], limit: int) -> RequestPage:
    """The page of up to ``limit`` rows (newest first; one more than ``limit`` means another page)."""
    shown = rows[:limit]
    more = len(rows) > limit and bool(shown)
    return RequestPage(
        records=[record for _, record in shown],
        next_cursor=encode_cursor((shown[-1][1].at, shown[-1][0])) if more else None,
    )
