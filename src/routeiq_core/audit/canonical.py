r"""Canonical JSON: the one byte string an audit entry hashes to.

The canonical form of a JSON value is its UTF-8 text with

* no whitespace outside strings;
* object members sorted by key, in Unicode code point order;
* strings with ``"`` and ``\`` escaped by a backslash, U+0008, U+0009, U+000A, U+000C and U+000D as
  ``\b \t \n \f \r``, the other characters below U+0020 as ``\u00xx`` (lower-case hex), and
  every other character as itself (UTF-8, not escaped);
* integers in decimal; other numbers as the shortest decimal that reads back to the same IEEE 754
  double (``1.5``, ``1e16``, ``1e-7``; a fraction part ``.0`` when the value is whole, so a float
  stays a float); NaN and the infinities as ``null``;
* ``true``, ``false``, ``null``.

It is what ``msgspec.json.encode(value, order="sorted")`` writes, and what
:func:`is_canonical` checks a stored entry against (decode, re-encode, compare the bytes).
"""

from __future__ import annotations

from typing import Any

import msgspec


def canonical_json(value: Any) -> bytes:
    """The canonical JSON bytes of ``value`` (builtins or msgspec Structs)."""
    return msgspec.json.encode(value, order="sorted")


def is_canonical(data: bytes) -> bool:
    """Whether ``data`` is valid JSON in exactly its canonical form."""
    try:
        return canonical_json(msgspec.json.decode(data)) == data
    except msgspec.DecodeError:
        return False
