"""What a quota limits: metrics, windows, limits and the amounts a request uses.

Amounts are integers everywhere below the service (a Lua script in Redis and the in-memory store must
agree to the unit): requests and tokens count themselves, spend counts nano price units
(``SPEND_SCALE`` per price unit), so budgets add up exactly instead of drifting like floats.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, cast, get_args

import msgspec

Metric = Literal["requests", "input_tokens", "output_tokens", "total_tokens", "spend"]
Window = Literal["minute", "hour", "day", "month"]
METRICS: tuple[Metric, ...] = get_args(Metric)
WINDOWS: tuple[Window, ...] = get_args(Window)

SPEND_SCALE = 1_000_000_000
"""Integer spend units per price unit (nano): one token at $0.01 per million tokens is 10 units."""


class WindowSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A sliding window cut into buckets; the bucket length is the counting granularity."""

    name: Window
    seconds: int
    bucket_s: int

    @property
    def buckets(self) -> int:
        """How many whole buckets make the window."""
        return self.seconds // self.bucket_s


WINDOW_SPECS: Mapping[Window, WindowSpec] = MappingProxyType(
    {
        "minute": WindowSpec(name="minute", seconds=60, bucket_s=1),
        "hour": WindowSpec(name="hour", seconds=3_600, bucket_s=60),
        "day": WindowSpec(name="day", seconds=86_400, bucket_s=900),
        "month": WindowSpec(name="month", seconds=30 * 86_400, bucket_s=6 * 3_600),
    }
)


class QuotaLimit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """At most ``limit`` of ``metric`` in any sliding ``window`` (spend in price units)."""

    metric: Metric
    window: Window
    limit: float

    def __post_init__(self) -> None:
        if self.limit < 0 or math.isnan(self.limit):
            raise ValueError(f"limit must be >= 0, got {self.limit}")


class Budget(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A spend limit: at most ``max_spend`` price units in any sliding ``window``."""

    max_spend: float
    window: Window = "month"

    def as_limit(self) -> QuotaLimit:
        """The budget as a spend :class:`QuotaLimit`."""
        return QuotaLimit(metric="spend", window=self.window, limit=self.max_spend)


class Amounts(msgspec.Struct, frozen=True, kw_only=True):
    """What one request uses (or is estimated to use); spend in integer units (see ``SPEND_SCALE``)."""

    requests: int = 1
    input_tokens: int = 0
    output_tokens: int = 0
    spend_units: int = 0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def of(self, metric: Metric) -> int:
        """The amount of ``metric``."""
        if metric == "total_tokens":
            return self.total_tokens
        if metric == "spend":
            return self.spend_units
        value: int = getattr(self, metric)
        return value


def to_units(metric: Metric, value: float) -> int:
    """A limit or amount in the integer unit stored by quota stores (spend rounds up)."""
    return math.ceil(value * SPEND_SCALE) if metric == "spend" else math.floor(value)


def from_units(metric: Metric, units: int) -> float:
    """The inverse of :func:`to_units` for reports and error messages."""
    return units / SPEND_SCALE if metric == "spend" else float(units)


_SHORTHAND: Mapping[str, tuple[Metric, Window]] = MappingProxyType(
    {
        "rpm": ("requests", "minute"),
        "rph": ("requests", "hour"),
        "rpd": ("requests", "day"),
        "tpm": ("total_tokens", "minute"),
        "tph": ("total_tokens", "hour"),
        "tpd": ("total_tokens", "day"),
    }
)
_LONG_FORM = re.compile(r"^(?P<metric>[a-z_]+?)_per_(?P<window>minute|hour|day|month)$")


def parse_limits(table: Mapping[str, float]) -> tuple[QuotaLimit, ...]:
    """Limits from a config/API mapping such as ``{"rpm": 50, "spend_per_month": 20}``.

    Keys are ``rpm``/``rph``/``rpd`` (requests), ``tpm``/``tph``/``tpd`` (total tokens) or
    ``<metric>_per_<window>`` with a metric of ``requests``, ``input_tokens``, ``output_tokens``,
    ``total_tokens``, ``spend`` and a window of ``minute``, ``hour``, ``day``, ``month``.

    Raises:
        ValueError: naming every unknown key or bad value.
    """
    limits: list[QuotaLimit] = []
    problems: list[str] = []
    for name, value in table.items():
        parsed = _parse_name(name)
        if parsed is None:
            problems.append(f"unknown limit {name!r} (use rpm, tpm, ... or <metric>_per_<window>)")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(f"limit {name!r} must be a number >= 0, got {value!r}")
        else:
            limits.append(QuotaLimit(metric=parsed[0], window=parsed[1], limit=float(value)))
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(limits)


def _parse_name(name: str) -> tuple[Metric, Window] | None:
    if name in _SHORTHAND:
        return _SHORTHAND[name]
    match = _LONG_FORM.match(name)
    if match is None:
        return None
    metric, window = match["metric"], match["window"]
    if metric not in METRICS:
        return None
    return cast(Metric, metric), cast(Window, window)


def describe_limit(limit: QuotaLimit) -> str:
    """``50 requests per minute``, ``a spend of 20 per month``."""
    if limit.metric == "spend":
        return f"a spend of {limit.limit:.6g} per {limit.window}"
    return f"{limit.limit:g} {limit.metric.replace('_', ' ')} per {limit.window}"
