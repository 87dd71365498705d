"""Prompt-injection heuristics: weighted signals combined into a score in ``[0, 1]``.

Each signal is a case-insensitive pattern with a weight ``w`` in ``(0, 1)``: the probability, roughly,
that a text showing it is an attack. Signals that fire are combined as independent evidence
(noisy-OR): ``score = 1 - prod(1 - w_i)``, each signal counted once however often it matches. So
one strong signal (``ignore all previous instructions``, 0.9) crosses the default threshold of 0.5
alone, while weak ones (a role marker, an authority claim) need company.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import NamedTuple

import msgspec

from routeiq_core.guardrails.verdict import Action, Verdict

_I = re.IGNORECASE
_TARGET = (
    r"(?:instructions?|prompts?|rules|directions|guidelines|constraints|programming|directives?"
    r"|guardrails|policies|orders)"
)
_SECRET_PROMPT = (
    r"(?:system|initial|original|hidden|secret|developer|pre-?)\s*"
    r"(?:prompt|instructions?|message|rules|configuration)"
)
_SHOW = r"(?:reveal|show|print|display|output|repeat|leak|dump|share|recite|give me|tell me|write out)"


class Signal(NamedTuple):
    """One injection signal: its name (reported, never the text), pattern and weight."""

    name: str
    pattern: re.Pattern[str]
    weight: float


DEFAULT_SIGNALS: tuple[Signal, ...] = (
    Signal(
        "override_instructions",
        re.compile(
            r"\b(?:ignore|disregard|forget|override|bypass|discard|set aside)\b[^.\n]{0,40}?"
            r"\b(?:previous|prior|above|earlier|preceding|initial|original|system|existing|all|your|any)\b"
            rf"[^.\n]{{0,24}}?\b{_TARGET}\b",
            _I,
        ),
        0.9,
    ),
    Signal(
        "forget_everything",
        re.compile(r"\bforget (?:everything|all)(?: (?:you(?:'ve| have| were)|above|before|that))", _I),
        0.8,
    ),
    Signal(
        "context_reset",
        re.compile(
            r"\b(?:previous|prior|above|earlier) (?:conversation|context|chat|messages?)"
            r" (?:never happened|is (?:void|irrelevant|cancelled)|(?:does not|doesn't) (?:matter|count))",
            _I,
        ),
        0.6,
    ),
    Signal(
        "new_instructions", re.compile(r"\bnew (?:instructions?|task|rules|orders|directive)\s*:", _I), 0.5
    ),
    Signal(
        "jailbreak_persona",
        re.compile(
            r"\b(?:do anything now|jailbr(?:ea|o)k(?:en|ed)?|god mode|unfiltered mode|evil ?bot|free ?gpt)\b"
            r"|\b(?:enable|activate|enter|switch to|turn on)\s+(?:the\s+)?(?:developer|maintenance|debug)"
            r" mode\b|\b(?:developer|maintenance) mode (?:enabled|activated|is on)",
            _I,
        ),
        0.8,
    ),
    Signal("dan_persona", re.compile(r"\bDAN\b"), 0.5),
    Signal(
        "unrestricted_roleplay",
        re.compile(
            r"\b(?:pretend|act|behave|roleplay|role-play|imagine|respond|answer|you are|you're)\b"
            r"[^.\n]{0,60}?\b(?:no|without(?: any)?|free of|not bound by|unrestricted|uncensored|unfiltered"
            r"|never refuse)\b"
            r"[^.\n]{0,30}?\b(?:restrictions?|limits?|limitations|rules|filters?|guidelines|ethics|ethical"
            r"|morals|censorship|policies|refus\w*)",
            _I,
        ),
        0.7,
    ),
    Signal(
        "identity_override",
        re.compile(
            r"\b(?:you are|you're) (?:now )?(?:no longer|not) (?:an? )?(?:AI|assistant|bound|restricted"
            r"|ChatGPT|Claude|Gemini|a language model)|\b(?:rules|guidelines|restrictions|policies|filters)"
            r" (?:(?:are|have been) (?:lifted|removed|disabled|suspended)|(?:do not|don't|no longer) apply)",
            _I,
        ),
        0.7,
    ),
    Signal(
        "from_now_on", re.compile(r"\bfrom now on,? (?:you (?:are|will|must|shall)|act|respond)", _I), 0.35
    ),
    Signal(
        "prompt_exfiltration",
        re.compile(
            rf"\b{_SHOW}\b(?:\s+me)?\s+(?:your|the|its)\s+(?:\w+\s+){{0,2}}?{_SECRET_PROMPT}"
            rf"|\b(?:{_SHOW}|what (?:is|are|was|were))\b[^.\n]{{0,40}}\byour\s+{_SECRET_PROMPT}"
            rf"|\b{_SHOW}\s+(?:the\s+)?system\s+prompt\b"
            r"|\bwhat were you told before\b",
            _I,
        ),
        0.85,
    ),
    Signal(
        "echo_above",
        re.compile(
            r"\b(?:repeat|output|print|copy|return)\b[^.\n]{0,30}\b(?:everything|all|text|words|lines?)"
            r"\s+(?:above|before this)|\bstarting with (?:the phrase )?['\"]you are\b",
            _I,
        ),
        0.75,
    ),
    Signal(
        "role_markers",
        re.compile(
            r"<\|(?:im_start|im_end|system|endoftext|start_header_id|eot_id)\|>|\[/?INST\]|<</?SYS>>"
            r"|^\s*#{1,4}\s*(?:system|instruction)s?\s*:?|^\s*(?:system|assistant)\s*:"
            r"|\"role\"\s*:\s*\"system\"",
            _I | re.MULTILINE,
        ),
        0.6,
    ),
    Signal(
        "safety_bypass",
        re.compile(
            r"\b(?:bypass|disable|turn off|ignore|circumvent|remove|evade|lift)\b[^.\n]{0,30}?"
            r"\b(?:safety|content|moderation|ethical|security)\s+"
            r"(?:filters?|guidelines|guardrails|protocols|restrictions|checks|policies|rules)",
            _I,
        ),
        0.7,
    ),
    Signal(
        "authority_claim",
        re.compile(
            r"\b(?:I am|I'm|this is) (?:your|the) (?:developer|creator|administrator|admin|owner|operator)\b"
            r"|\b(?:admin|developer|sudo|root) (?:override|mode|access|command)\b",
            _I,
        ),
        0.4,
    ),
    Signal(
        "markup_injection",
        re.compile(
            r"<\s*(?:script|iframe)\b|<img[^>]*\bon\w+\s*=|javascript:|<!--[^>]{0,200}\b(?:AI|assistant|model)\b"
            r"|!\[[^\]]*\]\(https?://[^)\s]*\?[^)\s]*=",
            _I,
        ),
        0.5,
    ),
    Signal("pwned", re.compile(r"\bI have been (?:pwned|hacked)\b|\baccess granted\b", _I), 0.5),
    Signal(
        "hidden_characters", re.compile(r"[\u200b-\u200f\u2060-\u2064\ufeff]|[\U000e0000-\U000e007f]"), 0.3
    ),
)
"""The built-in signals."""

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")
_BASE64_PLAIN = Signal("base64_blob", _BASE64, 0.35)
_BASE64_HIDDEN = Signal("base64_instructions", _BASE64, 0.85)


class InjectionScore(msgspec.Struct, frozen=True, kw_only=True):
    """A text's injection score and the names of the signals that fired."""

    score: float
    signals: tuple[str, ...]


def _decoded_base64(blob: str) -> str | None:
    """The blob decoded as mostly printable text, or ``None`` when it is binary or not base64."""
    try:
        raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("utf-8", errors="replace")
    printable = sum(c.isprintable() or c.isspace() for c in text)
    return text if text and printable / len(text) > 0.9 else None


class InjectionScorer:
    """Scores texts for prompt injection and turns the score into a verdict.

    Args:
        signals: The weighted signals (defaults to :data:`DEFAULT_SIGNALS`).
        threshold: Scores at or above it are flagged.
        action: What the plugin does with a flagged text (``block`` or ``flag``).
    """

    def __init__(
        self,
        signals: Iterable[Signal] = DEFAULT_SIGNALS,
        *,
        threshold: float = 0.5,
        action: Action = Action.BLOCK,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if action is Action.REDACT:
            raise ValueError("the injection guard can block or flag, not redact")
        self._signals = tuple(signals)
        for s in self._signals:
            if not 0.0 < s.weight < 1.0:
                raise ValueError(f"signal {s.name!r} weight must be in (0, 1), got {s.weight}")
        self.threshold = threshold
        self.action = action

    def score(self, text: str) -> InjectionScore:
        """The noisy-OR score of the signals that fire in ``text`` (see the module docstring)."""
        fired = [s for s in self._signals if s.pattern.search(text)]
        for match in _BASE64.finditer(text):
            decoded = _decoded_base64(match.group())
            if decoded is not None:
                inner = self.score(decoded) if len(decoded) < len(text) else None
                fired.append(_BASE64_HIDDEN if inner and inner.score >= self.threshold else _BASE64_PLAIN)
                break
        miss = 1.0
        for s in fired:
            miss *= 1.0 - s.weight
        return InjectionScore(score=round(1.0 - miss, 6), signals=tuple(s.name for s in fired))

    def check(self, texts: Iterable[str]) -> Verdict:
        """The verdict for the highest-scoring of ``texts`` (flagged at or above the threshold)."""
        best = InjectionScore(score=0.0, signals=())
        for text in texts:
            result = self.score(text)
            if result.score > best.score:
                best = result
        flagged = best.score >= self.threshold
        return Verdict(flagged=flagged, categories=("prompt_injection",) if flagged else (), score=best.score)
