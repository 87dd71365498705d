"""The PII detectors: one regular expression per entity shape, each with a validator.

Every pattern bounds the length of what it matches and looks at most two characters behind its start
and two characters past its end. Each detector also has a *prefix* pattern: anchored at the end of a
text, it matches from the earliest position where the text could still become the start of (or the
whole of) one of its matches once more text arrives. :class:`~routeiq_core.guardrails.pii.StreamRedactor`
relies on both properties to hold back no more than it must.
"""

from __future__ import annotations

import enum
import ipaddress
import math
import re
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import NamedTuple


class PiiKind(enum.StrEnum):
    """The kinds of entity the PII guard finds (the name appears in ``[REDACTED:<KIND>]``)."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CREDIT_CARD = "CREDIT_CARD"
    IBAN = "IBAN"
    IP_ADDRESS = "IP_ADDRESS"
    SECRET = "SECRET"


Validator = Callable[[str], int | None]
"""Given a raw match, the length of the valid entity at its start, or ``None`` when it is not one."""


class Detector(NamedTuple):
    """One entity shape: its kind, pattern, validator and end-anchored prefix pattern."""

    kind: PiiKind
    pattern: re.Pattern[str]
    validate: Validator
    prefix: re.Pattern[str]
    max_prefix: int


class Candidate(NamedTuple):
    """A raw match (``start``..``end``) and the entity validated inside it, if any."""

    start: int
    end: int
    kind: PiiKind
    valid_end: int | None
    priority: int


def _whole(text: str) -> int:
    return len(text)


def _digit_count(low: int, high: int) -> Validator:
    def check(text: str) -> int | None:
        return len(text) if low <= sum(c.isdigit() for c in text) <= high else None

    return check


def _luhn(text: str) -> int | None:
    digits = [int(c) for c in text if c.isdigit()]
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return None
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return len(text) if total % 10 == 0 else None


_IBAN_LENGTHS = MappingProxyType(
    {
        **dict.fromkeys(("NO",), 15),
        **dict.fromkeys(("BE",), 16),
        **dict.fromkeys(("DK", "FI", "FO", "GL", "NL"), 18),
        **dict.fromkeys(("MK", "SI"), 19),
        **dict.fromkeys(("AT", "BA", "EE", "KZ", "LT", "LU", "XK"), 20),
        **dict.fromkeys(("CH", "HR", "LI", "LV"), 21),
        **dict.fromkeys(("BG", "BH", "CR", "DE", "GB", "GE", "IE", "ME", "RS", "VA"), 22),
        **dict.fromkeys(("AE", "GI", "IL", "IQ", "TL"), 23),
        **dict.fromkeys(("AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"), 24),
        **dict.fromkeys(("PT", "ST"), 25),
        **dict.fromkeys(("IS", "TR"), 26),
        **dict.fromkeys(("FR", "GR", "IT", "MC", "MR", "SM"), 27),
        **dict.fromkeys(("AL", "AZ", "BY", "CY", "DO", "GT", "HU", "LB", "PL", "SV"), 28),
        **dict.fromkeys(("BR", "EG", "PS", "QA", "UA"), 29),
        **dict.fromkeys(("JO", "KW", "MU"), 30),
        **dict.fromkeys(("MT", "SC"), 31),
        **dict.fromkeys(("LC",), 32),
    }
)
"""IBAN length by country (SWIFT IBAN registry); other countries need 15 to 34 characters."""


def _iban_ok(compact: str) -> bool:
    expected = _IBAN_LENGTHS.get(compact[:2])
    if not (len(compact) == expected if expected else 15 <= len(compact) <= 34):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _iban(text: str) -> int | None:
    """The longest prefix, cut at a group boundary, that passes the mod-97 check."""
    ends = [len(text)] + [i for i in range(len(text) - 1, 0, -1) if text[i] == " "]
    for end in ends:
        if _iban_ok(text[:end].replace(" ", "")):
            return end
    return None


def _ipv4(text: str) -> int | None:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return None
    return len(text)


def _ipv6(text: str) -> int | None:
    if text.count(":") < 2 or not any(c not in ":." for c in text):
        return None
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return None
    return len(text)


def _high_entropy(text: str) -> int | None:
    body = text.rstrip("=")
    digits = sum(c.isdigit() for c in body)
    if digits < 2 or not any(c.islower() for c in body) or not any(c.isupper() for c in body):
        return None
    counts: dict[str, int] = {}
    for c in body:
        counts[c] = counts.get(c, 0) + 1
    entropy = -sum(n / len(body) * math.log2(n / len(body)) for n in counts.values())
    return len(text) if entropy >= 4.2 else None


_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9-]|\.[A-Za-z0-9])"
)
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])(?<!\d[ .-])\+\d{1,3}(?:[ .-]?\(0?\d{0,4}\))?[ .-]?\d{1,14}(?:[ .-]\d{1,14}){0,5}"
    r"(?!\w|[.-]\d)"
)
_PHONE_NANP = re.compile(
    r"(?<![\w+])(?<!\d[ .-])(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\w|[.-]\d)"
)
_PHONE_NATIONAL = re.compile(
    r"(?<![\w+])(?<!\d[ .-])(?:\(0\d{1,4}\)[ .-]?|0\d{1,4}[ .-])\d{2,8}(?:[ .-]\d{2,8}){0,3}(?!\w|[.-]\d)"
)
_CARD = re.compile(r"(?<![\w-])(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -]?)\d{6}\2\d{4,5})(?!\w|-\d)")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)?(?::[0-9A-Fa-f]{0,4}){1,7}"
    r"(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]|\.\d)"
)
_KNOWN_SECRET = re.compile(
    r"(?<![A-Za-z0-9_-])(?:"
    r"sk-[A-Za-z0-9_-]{20,256}"  # OpenAI, Anthropic (sk-ant-...), DeepSeek ...
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids
    r"|gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}"  # GitHub
    r"|xox[abposr]-[A-Za-z0-9-]{10,250}"  # Slack
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|[rs]k_(?:live|test)_[A-Za-z0-9]{16,247}"  # Stripe
    r")(?![A-Za-z0-9_-])"
)
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9_+/-])[A-Za-z0-9_+/-]{32,1024}={0,2}(?![A-Za-z0-9_+/=-])")

_EMAIL_PREFIX = re.compile(r"[A-Za-z0-9._%+-]{0,64}(?:@[A-Za-z0-9.-]{0,260})?\Z")
_NUMBER_PREFIX = re.compile(r"[+(\d][\d ().-]{0,40}\Z")
_IBAN_PREFIX = re.compile(r"(?:[A-Z]{1,2}|[A-Z]{2}\d{1,2}|[A-Z]{2}\d{2}[ A-Z0-9]{0,40})\Z")
_IP_PREFIX = re.compile(r"[0-9A-Fa-f:.]{0,46}\Z")
_TOKEN_PREFIX = re.compile(r"[A-Za-z0-9_+/=-]{0,1030}\Z")

DETECTORS: tuple[Detector, ...] = (
    Detector(PiiKind.SECRET, _KNOWN_SECRET, _whole, _TOKEN_PREFIX, 1030),
    Detector(PiiKind.SECRET, _LONG_TOKEN, _high_entropy, _TOKEN_PREFIX, 1030),
    Detector(PiiKind.EMAIL, _EMAIL, _whole, _EMAIL_PREFIX, 330),
    Detector(PiiKind.IBAN, _IBAN, _iban, _IBAN_PREFIX, 45),
    Detector(PiiKind.CREDIT_CARD, _CARD, _luhn, _NUMBER_PREFIX, 42),
    Detector(PiiKind.IP_ADDRESS, _IPV4, _ipv4, _IP_PREFIX, 46),
    Detector(PiiKind.IP_ADDRESS, _IPV6, _ipv6, _IP_PREFIX, 46),
    Detector(PiiKind.PHONE, _PHONE_INTERNATIONAL, _digit_count(8, 15), _NUMBER_PREFIX, 42),
    Detector(PiiKind.PHONE, _PHONE_NANP, _digit_count(10, 11), _NUMBER_PREFIX, 42),
    Detector(PiiKind.PHONE, _PHONE_NATIONAL, _digit_count(9, 12), _NUMBER_PREFIX, 42),
)
"""Every detector; overlaps go to the kind listed first in ``_PRIORITY``, then to the longer match."""

_PRIORITY = (
    PiiKind.SECRET,
    PiiKind.EMAIL,
    PiiKind.IBAN,
    PiiKind.CREDIT_CARD,
    PiiKind.IP_ADDRESS,
    PiiKind.PHONE,
)

CONTEXT_CHARS = 4
"""Characters before a scan position that the patterns may look at (lookbehind width, rounded up)."""


def detectors_for(kinds: Iterable[PiiKind]) -> tuple[Detector, ...]:
    """The detectors of ``kinds``, in priority order."""
    wanted = frozenset(kinds)
    return tuple(d for d in DETECTORS if d.kind in wanted)


def scan(text: str, pos: int, detectors: tuple[Detector, ...]) -> list[Candidate]:
    """Every raw match of ``detectors`` in ``text`` from ``pos`` on, validated.

    The patterns see the characters before ``pos`` (for their lookbehind), as if scanning had
    started at the beginning of ``text``.
    """
    found: list[Candidate] = []
    for detector in detectors:
        priority = _PRIORITY.index(detector.kind)
        for match in detector.pattern.finditer(text, pos):
            valid = detector.validate(match.group())
            end = None if valid is None else match.start() + valid
            found.append(Candidate(match.start(), match.end(), detector.kind, end, priority))
    return found


def resolve(candidates: Iterable[Candidate]) -> list[tuple[PiiKind, int, int]]:
    """Non-overlapping entities, by priority then length; returned in text order."""
    valid = [c for c in candidates if c.valid_end is not None]
    valid.sort(key=lambda c: (c.priority, c.start - (c.valid_end or 0), c.start))
    taken: list[tuple[PiiKind, int, int]] = []
    for c in valid:
        end = c.valid_end or c.end
        if all(end <= s or c.start >= e for _, s, e in taken):
            taken.append((c.kind, c.start, end))
    taken.sort(key=lambda t: t[1])
    return taken


def hold_from(text: str, detectors: tuple[Detector, ...]) -> int:
    """The earliest position from which the end of ``text`` could still grow into an entity."""
    cut = len(text)
    seen: set[int] = set()
    for detector in detectors:
        if id(detector.prefix) in seen:
            continue
        seen.add(id(detector.prefix))
        match = detector.prefix.search(text, max(0, len(text) - detector.max_prefix))
        if match is not None:
            cut = min(cut, match.start())
    return cut
