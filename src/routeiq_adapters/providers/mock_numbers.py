"""Numbers for the mock's generated JSON: a value inside a schema's bounds, a multiple where asked."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeGuard

_TRIES = 16
"""Multiples of ``multipleOf`` tried (a float step may not divide its float multiples exactly)."""


def is_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number (an int or a float, not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number(schema: dict[str, Any], variant: int, *, integer: bool) -> int | float:
    """A number (an int if ``integer``) the schema's bounds and ``multipleOf`` accept.

    1 (1.5 for a number) when the bounds allow it, else the nearest bound or the middle of an open
    range; ``variant`` moves away from it so that array items can differ.

    Raises:
        ValueError: No such number, or the bounds are not finite numbers (the message says which).
    """
    low, low_open = _bound(schema, "minimum", "exclusiveMinimum")
    high, high_open = _bound(schema, "maximum", "exclusiveMaximum")

    def inside(v: float) -> bool:
        above = low is None or v > low or (v == low and not low_open)
        return above and (high is None or v < high or (v == high and not high_open))

    try:
        if schema.get("multipleOf") is not None:
            return _multiple(schema["multipleOf"], low, high, inside, variant, integer=integer)
        if integer:
            first = None if low is None else (math.floor(low) + 1 if low_open else math.ceil(low))
            last = None if high is None else (math.ceil(high) - 1 if high_open else math.floor(high))
            whole = 1 if inside(1) else first if first is not None else last
            if whole is None or not inside(whole):
                raise ValueError("no integer lies between its minimum and maximum")
            return whole + variant if inside(whole + variant) else whole
        if inside(1.5):
            base = 1.5
        elif low is not None and high is not None:
            base = (low + high) / 2
        elif low is not None:
            base = low + 1.0 if low_open else float(low)
        else:
            assert high is not None  # without bounds 1.5 is inside
            base = high - 1.0 if high_open else float(high)
        if not inside(base):
            raise ValueError("no number lies between its minimum and maximum")
        return base + variant if inside(base + variant) else base
    except OverflowError:
        raise ValueError("its bounds are too large for the mock") from None


def _multiple(
    step: Any,
    low: float | None,
    high: float | None,
    inside: Callable[[float], bool],
    variant: int,
    *,
    integer: bool,
) -> int | float:
    if not is_number(step) or step <= 0 or not math.isfinite(step):
        raise ValueError("`multipleOf` must be a positive number")
    if variant == 0 and inside(0):
        return 0
    if low is not None:
        first = math.ceil(low / step)
    else:
        first = 1 if high is None or high >= step else math.floor(high / step)
    for k in range(first + variant, first + variant + _TRIES):
        value: int | float = k * step
        if isinstance(value, float) and value.is_integer() and (integer or isinstance(step, int)):
            value = int(value)
        if integer and not isinstance(value, int):
            continue
        if inside(value) and value / step == int(value / step):
            return value
    if inside(0):
        return 0
    raise ValueError(f"no multiple of {step} lies between its minimum and maximum")


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str) -> tuple[float | None, bool]:
    """The tighter of a schema's inclusive and exclusive bound on one side, and whether it is open."""
    value, opened = schema.get(inclusive), schema.get(exclusive)
    if isinstance(opened, bool):  # draft 4: a flag on the inclusive bound
        opened, value = (value, None) if opened else (None, value)
    bound: float | None = None
    is_open = False
    for given, flag in ((value, False), (opened, True)):
        if given is None:
            continue
        if not is_number(given) or not math.isfinite(given):
            raise ValueError(f"`{exclusive if flag else inclusive}` must be a finite number")
        tighter = bound is None or (given > bound if inclusive == "minimum" else given < bound)
        if tighter or (given == bound and flag):
            bound, is_open = given, flag
    return bound, is_open
