"""AWS Bedrock Guardrails through the ``ApplyGuardrail`` HTTP API, signed with SigV4.

``POST /guardrail/{id}/version/{version}/apply`` on ``bedrock-runtime.{region}.amazonaws.com`` (or a
configured endpoint) with ``{"source": "INPUT"|"OUTPUT", "content": [{"text": {"text": ...}}]}``.
The answer's ``action`` is ``GUARDRAIL_INTERVENED`` or ``NONE``; its ``assessments`` say which
policies fired, read here into categories such as ``content:VIOLENCE``, ``topic:Investments``,
``pii:EMAIL`` (never the matched text). When the guardrail masks rather than blocks, ``outputs``
carries the masked texts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

import msgspec

from routeiq_adapters.guardrails.http_transport import HttpTransport, HttpTransportError
from routeiq_adapters.guardrails.sigv4 import sigv4_headers
from routeiq_core.guardrails.chat_text import request_texts
from routeiq_core.guardrails.errors import GuardrailUnavailableError
from routeiq_core.guardrails.verdict import PASSED, Verdict

GUARDRAIL = "bedrock_guardrails"
SIGNING_SERVICE = "bedrock"
Source = Literal["INPUT", "OUTPUT"]

_ASSESSMENT_FIELDS: tuple[tuple[str, str, str, str | None], ...] = (
    ("topicPolicy", "topics", "topic", "name"),
    ("contentPolicy", "filters", "content", "type"),
    ("wordPolicy", "customWords", "word", None),
    ("wordPolicy", "managedWordLists", "word", "type"),
    ("sensitiveInformationPolicy", "piiEntities", "pii", "type"),
    ("sensitiveInformationPolicy", "regexes", "regex", "name"),
    ("contextualGroundingPolicy", "filters", "grounding", "type"),
)
"""(policy, list, category prefix, field naming the item) of every assessment that names a category."""


class BedrockGuardrailConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Which guardrail to apply, where, and with which credentials.

    Attributes:
        guardrail_id: The guardrail identifier (id or ARN).
        guardrail_version: Its version (``DRAFT`` or a number).
        region: AWS region; also the signing region.
        endpoint: Base URL overriding ``https://bedrock-runtime.{region}.amazonaws.com``.
        access_key_id: AWS access key id.
        secret_access_key: AWS secret access key.
        session_token: Session token of temporary credentials, if any.
        timeout_s: Deadline of one call.
    """

    guardrail_id: str
    access_key_id: str
    secret_access_key: str
    guardrail_version: str = "DRAFT"
    region: str = "us-east-1"
    endpoint: str | None = None
    session_token: str | None = None
    timeout_s: float = 5.0

    def __repr__(self) -> str:
        """Never show the credentials."""
        return f"BedrockGuardrailConfig(guardrail_id={self.guardrail_id!r}, region={self.region!r})"

    @property
    def url(self) -> str:
        """The ``ApplyGuardrail`` URL of this guardrail and version."""
        base = (self.endpoint or f"https://bedrock-runtime.{self.region}.amazonaws.com").rstrip("/")
        gid, version = quote(self.guardrail_id, safe=""), quote(self.guardrail_version, safe="")
        return f"{base}/guardrail/{gid}/version/{version}/apply"


class BedrockResult(msgspec.Struct, frozen=True, kw_only=True):
    """The guardrail's verdict and, when it rewrote (masked) the content, the rewritten texts."""

    verdict: Verdict
    outputs: tuple[str, ...] = ()


def _items(assessment: Mapping[str, Any], policy: str, field: str) -> list[Mapping[str, Any]]:
    section = assessment.get(policy)
    items = section.get(field) if isinstance(section, Mapping) else None
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def assessment_categories(assessments: Sequence[Any]) -> tuple[str, ...]:
    """Categories of every assessed item whose action is not ``NONE``, in order, without repeats."""
    found: dict[str, None] = {}
    for assessment in assessments:
        if not isinstance(assessment, Mapping):
            continue
        for policy, field, prefix, name_field in _ASSESSMENT_FIELDS:
            for item in _items(assessment, policy, field):
                if item.get("action", "BLOCKED") != "NONE":
                    found[f"{prefix}:{item.get(name_field, 'custom') if name_field else 'custom'}"] = None
    return tuple(found)


def parse_apply_response(body: Mapping[str, Any]) -> BedrockResult:
    """Read an ``ApplyGuardrail`` answer.

    Raises:
        ValueError: ``action`` is missing or unknown.
    """
    action = body.get("action")
    if action not in ("GUARDRAIL_INTERVENED", "NONE"):
        raise ValueError(f"unexpected action {action!r}")
    outputs = body.get("outputs")
    texts = tuple(
        o["text"] for o in outputs or () if isinstance(o, Mapping) and isinstance(o.get("text"), str)
    )
    if action == "NONE":
        return BedrockResult(verdict=PASSED)
    assessments = body.get("assessments")
    categories = assessment_categories(assessments if isinstance(assessments, list) else [])
    return BedrockResult(
        verdict=Verdict(flagged=True, categories=categories or ("intervened",)), outputs=texts
    )


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class BedrockGuardrail:
    """Applies one Bedrock guardrail to request or response texts.

    Args:
        config: Guardrail, region/endpoint, credentials and deadline.
        transport: The HTTP transport (:class:`AiohttpHttpTransport` in production).
        clock: Current UTC time, for signing.
    """

    name = GUARDRAIL

    def __init__(
        self,
        config: BedrockGuardrailConfig,
        transport: HttpTransport,
        *,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self._config = config
        self._transport = transport
        self._clock = clock

    async def check_request(self, payload: dict[str, Any]) -> BedrockResult:
        """Apply the guardrail to every text of an OpenAI request (source ``INPUT``)."""
        return await self.apply("INPUT", request_texts(payload))

    async def check_response(self, texts: Sequence[str]) -> BedrockResult:
        """Apply the guardrail to answer texts (source ``OUTPUT``)."""
        return await self.apply("OUTPUT", texts)

    async def apply(self, source: Source, texts: Sequence[str]) -> BedrockResult:
        """Apply the guardrail to ``texts``.

        Raises:
            GuardrailUnavailableError: No answer in time, a non-200 status, or an unreadable body.
        """
        if not any(texts):
            return BedrockResult(verdict=PASSED)
        cfg = self._config
        body = msgspec.json.encode({"source": source, "content": [{"text": {"text": t}} for t in texts]})
        headers = sigv4_headers(
            "POST",
            cfg.url,
            body,
            cfg.region,
            SIGNING_SERVICE,
            cfg.access_key_id,
            cfg.secret_access_key,
            cfg.session_token,
            self._clock(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            response = await self._transport.post(
                cfg.url, headers=headers, body=body, timeout_s=cfg.timeout_s
            )
        except HttpTransportError as exc:
            raise GuardrailUnavailableError(GUARDRAIL, exc.message) from exc
        if response.status != 200:
            raise GuardrailUnavailableError(
                GUARDRAIL, f"HTTP {response.status}: {_aws_message(response.body)}"
            )
        try:
            decoded = msgspec.json.decode(response.body)
            if not isinstance(decoded, dict):
                raise ValueError("the answer is not a JSON object")
            return parse_apply_response(decoded)
        except (msgspec.DecodeError, ValueError) as exc:
            raise GuardrailUnavailableError(GUARDRAIL, f"unreadable answer ({exc})") from exc


def _aws_message(body: bytes) -> str:
    """AWS's error message (``{"message": ...}``), or a short note when there is none."""
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return "no error message"
    message = decoded.get("message") or decoded.get("Message") if isinstance(decoded, dict) else None
    return str(message)[:300] if message else "no error message"
