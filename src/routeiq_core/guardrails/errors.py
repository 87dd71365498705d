"""Errors of the guardrails: a blocked request or answer, and a guardrail that could not answer.

Messages name the guardrail and the category that fired, never the offending content: they are
returned to clients and written to logs.
"""

from __future__ import annotations

from typing import Literal

from routeiq_core.errors import InvalidRequestError, ServiceUnavailableError


class ContentPolicyViolation(InvalidRequestError):
    """A guardrail blocked the request or the answer (400, ``content_policy_violation``).

    Attributes:
        guardrail: The guardrail that blocked (``pii_guard``, ``llamaguard``, ...).
        category: What it found (``EMAIL``, ``prompt_injection``, ``S1``, ...).
        stage: Whether the request or the model's response was blocked (named in the message).
    """

    default_code = "content_policy_violation"

    def __init__(
        self,
        guardrail: str,
        category: str,
        *,
        stage: Literal["request", "response"] = "request",
        param: str | None = None,
    ) -> None:
        super().__init__(
            f"The {stage} was blocked by the {guardrail!r} guardrail (category: {category}). "
            "Remove or rephrase the flagged content and try again.",
            param=param,
        )
        self.guardrail = guardrail
        self.category = category
        self.stage = stage


class GuardrailUnavailableError(ServiceUnavailableError):
    """An external guardrail did not answer, or answered something unreadable (503).

    The plugin's failure mode decides whether the request then continues (fail open) or fails.
    """

    default_code = "guardrail_unavailable"

    def __init__(self, guardrail: str, reason: str) -> None:
        super().__init__(f"The {guardrail!r} guardrail is unavailable: {reason}. Try again later.")
        self.guardrail = guardrail
