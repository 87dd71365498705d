"""Find and redact personal data and secrets in text, whole or as it streams.

Detected: email addresses; phone numbers (international ``+CC ...``, North-American ``(555) 123-4567``
and trunk-prefixed national formats such as ``020 7946 0958``; plain digit runs are not phones);
payment card numbers (Luhn-checked); IBANs (mod-97-checked); IPv4 and IPv6 addresses (checked with
:mod:`ipaddress`); API-key-like secrets (``sk-...``, ``AKIA...``, ``ghp_...``, ``xoxb-...``,
``AIza...``, Stripe keys, and long mixed-case tokens of high entropy). Each entity becomes
``[REDACTED:<KIND>]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from routeiq_core.guardrails._pii_detectors import (
    CONTEXT_CHARS,
    Candidate,
    PiiKind,
    detectors_for,
    hold_from,
    resolve,
    scan,
)

__all__ = ["ALL_KINDS", "Finding", "PiiKind", "StreamRedactor", "find", "placeholder", "redact"]

ALL_KINDS: frozenset[PiiKind] = frozenset(PiiKind)


class Finding(msgspec.Struct, frozen=True):
    """One entity: its kind and where it is (``text[start:end]``)."""

    kind: PiiKind
    start: int
    end: int


def placeholder(kind: PiiKind) -> str:
    """The text an entity of ``kind`` is replaced with."""
    return f"[REDACTED:{kind.value}]"


def find(text: str, kinds: Iterable[PiiKind] = ALL_KINDS) -> list[Finding]:
    """Every entity of ``kinds`` in ``text``, non-overlapping, in text order."""
    detectors = detectors_for(kinds)
    return [Finding(kind, start, end) for kind, start, end in resolve(scan(text, 0, detectors))]


def _apply(text: str, findings: Sequence[Finding], offset: int = 0) -> str:
    parts: list[str] = []
    last = 0
    for f in findings:
        parts += [text[last : f.start - offset], placeholder(f.kind)]
        last = f.end - offset
    parts.append(text[last:])
    return "".join(parts)


def redact(text: str, kinds: Iterable[PiiKind] = ALL_KINDS) -> tuple[str, list[Finding]]:
    """``text`` with every entity of ``kinds`` replaced, and the findings (offsets into the original)."""
    findings = find(text, kinds)
    return _apply(text, findings), findings


class StreamRedactor:
    """Redacts a text that arrives in pieces, with the same result as :func:`redact` on the whole.

    Each :meth:`feed` returns the redacted text that can no longer change, and holds back only the
    tail that could still be the start of an entity: the last word while it could become an email,
    address or token, and a trailing run of digits and separators while it could become a phone,
    card or IBAN. So an entity split across chunks is still redacted, and ordinary prose flows
    with at most a word of delay. Call :meth:`flush` once at the end of the stream.

    Args:
        kinds: Entity kinds to redact.

    Attributes:
        findings: Every entity redacted so far, with offsets into the whole streamed text.
    """

    def __init__(self, kinds: Iterable[PiiKind] = ALL_KINDS) -> None:
        self._detectors = detectors_for(kinds)
        self._pending = ""
        self._context = ""
        self._offset = 0
        self.findings: list[Finding] = []

    @property
    def pending(self) -> str:
        """The original text held back so far (not yet emitted)."""
        return self._pending

    def feed(self, delta: str) -> str:
        """Take the next piece of text; return the redacted text that is now final (maybe empty)."""
        self._pending += delta
        if not self._pending:
            return ""
        text = self._context + self._pending
        base = len(self._context)
        candidates = scan(text, base, self._detectors)
        cut = base + hold_from(self._pending, self._detectors)
        moved = True
        while moved:
            moved = False
            for c in candidates:
                if c.start < cut < c.end:
                    cut, moved = c.start, True
        return self._emit(text, base, cut, [c for c in candidates if c.end <= cut])

    def flush(self) -> str:
        """Return everything still held back, redacted; the stream is then empty again."""
        text = self._context + self._pending
        base = len(self._context)
        return self._emit(text, base, len(text), scan(text, base, self._detectors))

    def _emit(self, text: str, base: int, cut: int, candidates: list[Candidate]) -> str:
        if cut <= base:
            return ""
        local = [Finding(kind, start, end) for kind, start, end in resolve(candidates)]
        out = _apply(text[base:cut], local, offset=base)
        shift = self._offset - base
        self.findings += [Finding(f.kind, f.start + shift, f.end + shift) for f in local]
        self._offset += cut - base
        self._context = text[max(0, cut - CONTEXT_CHARS) : cut]
        self._pending = text[cut:]
        return out
