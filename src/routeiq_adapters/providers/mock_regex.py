"""A string matching a JSON-schema ``pattern``, for the mock's generated JSON — in bounded time.

The pattern is parsed with the stdlib's own regex parser and a string is built from the parse tree
(first alternative, fewest repetitions, more while the string is too short). For patterns made only
of constructs whose language that walk stays inside (literals, classes, repeats, groups,
alternatives, anchors at the ends, no case folding) the string matches by construction and is never
run through the regex engine. Anything else is checked with ``re.search``, but only on strings of at
most :data:`SEARCH_CHARS` characters: a pattern with nested quantifiers (``(x+x+)+y``) cannot make
the mock backtrack for minutes.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

MAX_PATTERN = 1_000
"""Longest pattern the mock works with."""
MAX_CHARS = 8_192
"""Longest string built from a pattern."""
SEARCH_CHARS = 20
"""Longest string a pattern the mock cannot reason about is run on (backtracking stays small)."""
MAX_COUNT = 1_000
"""Largest counted repeat (``{n}``) of a pattern the mock runs at all (the engine steps through each)."""

_SRE: Any = importlib.import_module("re._parser")  # the stdlib's regex parser; no public equivalent
_EXACT_OPS = frozenset(
    {"LITERAL", "NOT_LITERAL", "ANY", "IN", "MAX_REPEAT", "MIN_REPEAT", "SUBPATTERN", "BRANCH"}
)
_STARTS = frozenset({"AT_BEGINNING", "AT_BEGINNING_STRING"})
_ENDS = frozenset({"AT_END", "AT_END_STRING"})
_FALLBACKS = ("example", "a", "A", "0", "1", "abc", "a1", "")
_CATEGORY_CHARS: Mapping[str, str] = MappingProxyType(
    {
        "CATEGORY_DIGIT": "0",
        "CATEGORY_NOT_DIGIT": "a",
        "CATEGORY_SPACE": " ",
        "CATEGORY_NOT_SPACE": "a",
        "CATEGORY_WORD": "a",
        "CATEGORY_NOT_WORD": "-",
    }
)
_CATEGORY_RES: Mapping[str, str] = MappingProxyType(
    {
        "CATEGORY_DIGIT": r"\d",
        "CATEGORY_NOT_DIGIT": r"\D",
        "CATEGORY_SPACE": r"\s",
        "CATEGORY_NOT_SPACE": r"\S",
        "CATEGORY_WORD": r"\w",
        "CATEGORY_NOT_WORD": r"\W",
    }
)


def matching(pattern: str, min_length: int, max_length: int | None) -> str | None:
    """A string that ``pattern`` matches (``re.search``), within the length bounds; None if none is found."""
    parsed = _parse(pattern)
    if parsed is None:
        return None
    compiled = _searchable(pattern, parsed)
    exact = not parsed.state.flags & re.IGNORECASE and _exact(list(parsed), top=True)
    for extra in _extras(parsed, min_length):
        try:
            candidate = _Emitter(extra).emit(parsed)
        except (_Unsupported, RecursionError):
            break
        if len(candidate) < min_length:
            continue
        if max_length is not None and len(candidate) > max_length:
            break
        if exact or _checked(compiled, candidate):
            return candidate
    for candidate in _FALLBACKS:
        fits = min_length <= len(candidate) <= (len(candidate) if max_length is None else max_length)
        if fits and _checked(compiled, candidate):
            return candidate
    return None


def _extras(parsed: Any, min_length: int) -> list[int]:
    """Repetitions to try above each minimum: a few, and the number that reaches ``min_length``."""
    extras = {0, 1, 2, 4, 8, 16, 32}
    try:
        shortest, longer = (len(_Emitter(extra).emit(parsed)) for extra in (0, 1))
    except (_Unsupported, RecursionError):
        return sorted(extras)
    if longer > shortest and min_length > shortest:
        reach = -(-(min_length - shortest) // (longer - shortest))
        extras |= {reach, reach + 1}
    return sorted(extras)


def search(pattern: str, text: str) -> bool | None:
    """Whether ``pattern`` matches in ``text``; None when that cannot be checked cheaply (or is invalid)."""
    parsed = _parse(pattern)
    compiled = None if parsed is None or len(text) > SEARCH_CHARS else _searchable(pattern, parsed)
    return None if compiled is None else compiled.search(text) is not None


def _parse(pattern: str) -> Any:
    if len(pattern) > MAX_PATTERN:
        return None
    try:
        return _SRE.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None


def _searchable(pattern: str, parsed: Any) -> re.Pattern[str] | None:
    """The compiled pattern, if running it is cheap: no counted repeat above :data:`MAX_COUNT`."""
    if _largest_count(parsed) > MAX_COUNT:
        return None
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None


def _largest_count(items: Any) -> int:
    largest = 0
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            bound = low if str(high) == "MAXREPEAT" else max(low, high)
            largest = max(largest, bound, _largest_count(sub))
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            largest = max(largest, _largest_count(arg[-1] if name == "SUBPATTERN" else arg))
        elif name == "BRANCH":
            largest = max([largest, *(_largest_count(alt) for alt in arg[1])])
        elif name in ("ASSERT", "ASSERT_NOT"):
            largest = max(largest, _largest_count(arg[1]))
    return largest


def _checked(compiled: re.Pattern[str] | None, candidate: str) -> bool:
    return compiled is not None and len(candidate) <= SEARCH_CHARS and compiled.search(candidate) is not None


def _exact(items: list[Any], *, top: bool = False) -> bool:
    """Whether the walk's string is sure to match: only constructs it builds faithfully."""
    for i, (op, arg) in enumerate(items):
        name = str(op)
        if name == "AT":
            at = str(arg)
            at_edge = (at in _STARTS and i == 0) or (at in _ENDS and i == len(items) - 1)
            if not (top and at_edge):
                return False
        elif name not in _EXACT_OPS or not _exact_inside(name, arg):
            return False
    return True


def _exact_inside(name: str, arg: Any) -> bool:
    if name == "IN":
        return all(str(m[0]) in ("NEGATE", "LITERAL", "RANGE", "CATEGORY") for m in arg)
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        return _exact(list(arg[2]))
    if name == "SUBPATTERN":
        return not arg[1] & re.IGNORECASE and _exact(list(arg[-1]))
    if name == "BRANCH":
        return _exact(list(arg[1][0]))
    return True


class _Unsupported(Exception):
    pass


class _Emitter:
    """Builds one string from a parse tree, ``extra`` repetitions above each minimum."""

    def __init__(self, extra: int) -> None:
        self.extra = extra
        self.length = 0
        self.groups: dict[int, str] = {}

    def emit(self, items: Any) -> str:
        out = []
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out.append(self._chars(chr(arg)))
            elif name in ("NOT_LITERAL", "ANY"):
                out.append(self._chars("b" if arg == ord("a") else "a"))
            elif name == "IN":
                out.append(self._chars(_in(arg)))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                out.append(self._repeat(*arg))
            elif name in ("SUBPATTERN", "ATOMIC_GROUP", "BRANCH", "GROUPREF"):
                out.append(self._group(name, arg))
            elif name not in ("AT", "ASSERT", "ASSERT_NOT"):  # anchors and lookarounds add no text
                raise _Unsupported
        return "".join(out)

    def _repeat(self, low: int, high: Any, sub: Any) -> str:
        count = low + self.extra if str(high) == "MAXREPEAT" else min(high, low + self.extra)
        if count > MAX_CHARS:
            raise _Unsupported
        return "".join(self.emit(sub) for _ in range(count))

    def _group(self, name: str, arg: Any) -> str:
        if name == "SUBPATTERN":
            text = self.emit(arg[-1])
            if arg[0] is not None:
                self.groups[arg[0]] = text
            return text
        if name == "ATOMIC_GROUP":
            return self.emit(arg)
        if name == "BRANCH":
            return self.emit(arg[1][0])
        return self._chars(self.groups.get(arg, ""))

    def _chars(self, text: str) -> str:
        self.length += len(text)
        if self.length > MAX_CHARS:
            raise _Unsupported
        return text


def _in(members: Any) -> str:
    if members and str(members[0][0]) == "NEGATE":
        rest = members[1:]
        for char in "a0xZ_-~ ":
            if not any(_has(m, char) for m in rest):
                return char
        raise _Unsupported
    op, arg = members[0]
    name = str(op)
    if name == "LITERAL":
        return chr(arg)
    if name == "RANGE":
        return chr(arg[0])
    if name == "CATEGORY":
        return _CATEGORY_CHARS.get(str(arg), "a")
    raise _Unsupported


def _has(member: Any, char: str) -> bool:
    op, arg = member
    name = str(op)
    if name == "LITERAL":
        return bool(ord(char) == arg)
    if name == "RANGE":
        return bool(arg[0] <= ord(char) <= arg[1])
    if name == "CATEGORY" and str(arg) in _CATEGORY_RES:
        return re.fullmatch(_CATEGORY_RES[str(arg)], char) is not None
    return True  # unknown member: assume it excludes the character
