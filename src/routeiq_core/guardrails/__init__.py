"""Guardrails: checks on requests and answers, and answer evaluators.

PII redaction, prompt-injection scoring, content policies, external moderation through the provider
port (LlamaGuard) and post-response evaluators. Guardrails that speak a vendor's own HTTP API (AWS
Bedrock Guardrails) are adapters: :mod:`routeiq_adapters.guardrails`.

Each guard is plain core code returning a :class:`Verdict`; the plugin layer decides when to call it
and turns a blocking verdict into :class:`ContentPolicyViolation`.
"""

from routeiq_core.guardrails.chat_text import (
    chunk_texts,
    conversation,
    decode_frame,
    map_chunk_text,
    map_frame_text,
    map_request_text,
    map_response_text,
    request_texts,
    response_texts,
)
from routeiq_core.guardrails.content_filter import DENIED_TERM, Category, ContentFilter, TeamPolicy
from routeiq_core.guardrails.errors import ContentPolicyViolation, GuardrailUnavailableError
from routeiq_core.guardrails.evaluator import (
    Evaluation,
    Evaluator,
    HeuristicEvaluator,
    LLMJudgeEvaluator,
    parse_judge_score,
)
from routeiq_core.guardrails.injection import DEFAULT_SIGNALS, InjectionScore, InjectionScorer, Signal
from routeiq_core.guardrails.llamaguard import (
    LLAMA_GUARD_3_CATEGORIES,
    LlamaGuard,
    LlamaGuardConfig,
    build_prompt,
    parse_answer,
)
from routeiq_core.guardrails.pii import ALL_KINDS, Finding, PiiKind, StreamRedactor, find, placeholder, redact
from routeiq_core.guardrails.verdict import PASSED, Action, Verdict

__all__ = [
    "ALL_KINDS",
    "DEFAULT_SIGNALS",
    "DENIED_TERM",
    "LLAMA_GUARD_3_CATEGORIES",
    "PASSED",
    "Action",
    "Category",
    "ContentFilter",
    "ContentPolicyViolation",
    "Evaluation",
    "Evaluator",
    "Finding",
    "GuardrailUnavailableError",
    "HeuristicEvaluator",
    "InjectionScore",
    "InjectionScorer",
    "LLMJudgeEvaluator",
    "LlamaGuard",
    "LlamaGuardConfig",
    "PiiKind",
    "Signal",
    "StreamRedactor",
    "TeamPolicy",
    "Verdict",
    "build_prompt",
    "chunk_texts",
    "conversation",
    "decode_frame",
    "find",
    "map_chunk_text",
    "map_frame_text",
    "map_request_text",
    "map_response_text",
    "parse_answer",
    "parse_judge_score",
    "placeholder",
    "redact",
    "request_texts",
    "response_texts",
]
