"""Compiling a rule's ``match`` into checks: each says whether it passed and why, in words."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase

from routeiq_core.access.policy_rules import Check, PolicyMatch, RequestFacts, TimeWindow, TokenRange
from routeiq_core.operations import POLICY_OPERATIONS
from routeiq_core.surfaces import SURFACES

Condition = Callable[[RequestFacts], Check]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def compile_match(match: PolicyMatch, path: str, problems: list[str]) -> tuple[Condition, ...]:
    """The conditions of ``match``, cheapest first; config problems are appended to ``problems``."""
    conditions: list[Condition] = []
    identity = (
        ("kind", match.kinds, lambda f: f.principal.kind),
        ("key_id", match.key_ids, lambda f: f.principal.key_id),
        ("user", match.users, lambda f: f.principal.user),
        ("team", match.teams, lambda f: f.principal.team),
        ("role", match.roles, lambda f: f.principal.role),
    )
    for name, allowed, get in identity:
        if allowed:
            conditions.append(_exact(name, tuple(allowed), get))
    if match.operations:
        _known("operations", match.operations, POLICY_OPERATIONS, f"{path}.operations", problems)
        conditions.append(_exact("operation", match.operations, lambda f: str(f.operation)))
    if match.surfaces:
        _known("surfaces", match.surfaces, sorted(SURFACES), f"{path}.surfaces", problems)
        conditions.append(_exact("surface", match.surfaces, lambda f: f.surface))
    if match.models:
        conditions.append(_glob("model", match.models, lambda f: f.model))
    if match.stream is not None:
        conditions.append(_flag("stream", match.stream, lambda f: f.stream))
    if match.tools is not None:
        conditions.append(_flag("tools", match.tools, lambda f: f.tools))
    if match.max_tokens is not None:
        conditions.append(_token_range(match.max_tokens, f"{path}.max_tokens", problems))
    if match.source_cidrs:
        conditions.append(_cidrs(match.source_cidrs, f"{path}.source_cidrs", problems))
    if match.time is not None:
        conditions.append(_time_window(match.time, f"{path}.time", problems))
    return tuple(conditions)


def _known(what: str, names: Sequence[str], known: Sequence[str], path: str, problems: list[str]) -> None:
    problems.extend(
        f"{path}: {name!r} is not one of the {what} ({', '.join(known)})"
        for name in names
        if name not in known
    )


def _exact(name: str, allowed: tuple[str, ...], get: Callable[[RequestFacts], str | None]) -> Condition:
    def check(facts: RequestFacts) -> Check:
        value = get(facts)
        passed = value is not None and value in allowed
        verb = "in" if passed else "not in"
        return Check(condition=name, passed=passed, detail=f"{name} {value!r} {verb} {list(allowed)}")

    return check


def _glob(name: str, patterns: Sequence[str], get: Callable[[RequestFacts], str | None]) -> Condition:
    def check(facts: RequestFacts) -> Check:
        value = get(facts)
        hit = next((p for p in patterns if value is not None and fnmatchcase(value, p)), None)
        if hit is None:
            return Check(
                condition=name, passed=False, detail=f"{name} {value!r} matches none of {list(patterns)}"
            )
        return Check(condition=name, passed=True, detail=f"{name} {value!r} matches {hit!r}")

    return check


def _flag(name: str, wanted: bool, get: Callable[[RequestFacts], bool]) -> Condition:
    def check(facts: RequestFacts) -> Check:
        value = get(facts)
        return Check(condition=name, passed=value is wanted, detail=f"{name} is {value}, rule wants {wanted}")

    return check


def _token_range(bounds: TokenRange, path: str, problems: list[str]) -> Condition:
    low, high = bounds.min, bounds.max
    if low is not None and high is not None and low > high:
        problems.append(f"{path}: min {low} is greater than max {high}")
    shown = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"

    def check(facts: RequestFacts) -> Check:
        value = facts.max_tokens
        if value is None:
            passed = high is None
            return Check(
                condition="max_tokens", passed=passed, detail=f"max_tokens unset (unbounded) vs {shown}"
            )
        passed = (low is None or value >= low) and (high is None or value <= high)
        verb = "in" if passed else "outside"
        return Check(condition="max_tokens", passed=passed, detail=f"max_tokens {value} {verb} {shown}")

    return check


def _cidrs(texts: Sequence[str], path: str, problems: list[str]) -> Condition:
    networks: list[IPNetwork] = []
    for index, text in enumerate(texts):
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            problems.append(f"{path}[{index}]: {exc}")
    frozen = tuple(networks)

    def check(facts: RequestFacts) -> Check:
        if facts.source_ip is None:
            return Check(condition="source_ip", passed=False, detail="source address unknown")
        try:
            address = ipaddress.ip_address(facts.source_ip)
        except ValueError:
            return Check(condition="source_ip", passed=False, detail=f"{facts.source_ip!r} is not an address")
        hit = next((n for n in frozen if address in n), None)
        if hit is None:
            return Check(condition="source_ip", passed=False, detail=f"{address} in none of {list(texts)}")
        return Check(condition="source_ip", passed=True, detail=f"{address} in {hit}")

    return check


def _parse_hours(text: str) -> tuple[int, int]:
    """``"HH:MM-HH:MM"`` as minutes since midnight (``24:00`` allowed as an end)."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"hours must look like '09:00-17:00', got {text!r}")
    return _minutes(start.strip(), text), _minutes(end.strip(), text)


def _minutes(clock: str, text: str) -> int:
    hours, sep, minutes = clock.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"hours must look like '09:00-17:00', got {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > 24 * 60:
        raise ValueError(f"{clock!r} is not a time of day in {text!r}")
    return value


def _time_window(window: TimeWindow, path: str, problems: list[str]) -> Condition:
    span: tuple[int, int] | None = None
    if window.hours is not None:
        try:
            span = _parse_hours(window.hours)
        except ValueError as exc:
            problems.append(f"{path}.hours: {exc}")
    days = frozenset(window.days)

    def check(facts: RequestFacts) -> Check:
        at = facts.at.astimezone(dt.UTC) if facts.at.tzinfo else facts.at.replace(tzinfo=dt.UTC)
        day = DAY_NAMES[at.weekday()]
        stamp = f"{day} {at:%H:%M} UTC"
        if days and day not in days:
            return Check(condition="time", passed=False, detail=f"{stamp}: day not in {sorted(days)}")
        if span is not None:
            minute = at.hour * 60 + at.minute
            start, end = span
            inside = start <= minute < end if start <= end else (minute >= start or minute < end)
            if not inside:
                return Check(condition="time", passed=False, detail=f"{stamp} outside {window.hours}")
        return Check(condition="time", passed=True, detail=f"{stamp} inside the window")

    return check
