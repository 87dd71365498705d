"""What a guardrail decides about a text, and what to do when it flags something."""

from __future__ import annotations

import enum
from typing import Literal

import msgspec

from routeiq_core.guardrails.errors import ContentPolicyViolation


class Action(enum.StrEnum):
    """What a guard does when it flags something.

    ``block`` rejects with :class:`ContentPolicyViolation`; ``flag`` lets the text through and only
    records the verdict (metrics, logs, routing outcomes); ``redact`` rewrites the text (PII only).
    """

    BLOCK = "block"
    FLAG = "flag"
    REDACT = "redact"


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    """A guardrail's decision about one text or conversation; never holds the text itself.

    Attributes:
        flagged: Whether something was found.
        categories: What was found, most important first (empty when not flagged).
        score: The guard's score in ``[0, 1]`` when it has one.
    """

    flagged: bool
    categories: tuple[str, ...] = ()
    score: float | None = None

    def violation(
        self, guardrail: str, stage: Literal["request", "response"] = "request"
    ) -> ContentPolicyViolation:
        """The error that blocks the request (or response) for this verdict, naming its first category."""
        category = self.categories[0] if self.categories else "unspecified"
        return ContentPolicyViolation(guardrail, category, stage=stage)


PASSED = Verdict(flagged=False)
"""The verdict of a guard that found nothing."""
