"""The blocking error, verdicts, and the public surface of the guardrail and cache packages."""

from __future__ import annotations

import routeiq_adapters.cache
import routeiq_adapters.guardrails
import routeiq_core.cache
import routeiq_core.guardrails
from routeiq_core.errors import InvalidRequestError
from routeiq_core.guardrails import PASSED, ContentPolicyViolation, GuardrailUnavailableError, Verdict


def test_content_policy_violation_names_the_guardrail_and_category_only() -> None:
    error = ContentPolicyViolation("pii_guard", "CREDIT_CARD")
    assert isinstance(error, InvalidRequestError)
    assert (error.status_code, error.error_type, error.code) == (
        400,
        "invalid_request_error",
        "content_policy_violation",
    )
    assert "'pii_guard'" in error.message
    assert "CREDIT_CARD" in error.message
    assert (error.guardrail, error.category) == ("pii_guard", "CREDIT_CARD")


def test_a_blocked_response_says_so() -> None:
    error = Verdict(flagged=True, categories=("EMAIL",)).violation("pii_guard", stage="response")
    assert error.message.startswith("The response was blocked by the 'pii_guard' guardrail (category: EMAIL)")
    assert error.stage == "response"


def test_verdict_violation_uses_the_first_category() -> None:
    assert Verdict(flagged=True, categories=("S1", "S2")).violation("llamaguard").category == "S1"
    assert Verdict(flagged=True).violation("x").category == "unspecified"
    assert not PASSED.flagged


def test_guardrail_unavailable_is_a_503() -> None:
    error = GuardrailUnavailableError("llamaguard", "timed out")
    assert error.status_code == 503
    assert error.code == "guardrail_unavailable"


def test_exports_resolve() -> None:
    for module in (
        routeiq_core.guardrails,
        routeiq_core.cache,
        routeiq_adapters.cache,
        routeiq_adapters.guardrails,
    ):
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)
