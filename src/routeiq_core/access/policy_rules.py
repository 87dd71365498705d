"""The policy vocabulary: rules as loaded from config, the facts of a request, decisions, explanations."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal, Protocol

import msgspec

from routeiq_core.access.principal import Principal, PrincipalKind, Role

Effect = Literal["allow", "deny"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CostPreference = Literal["cheapest", "balanced", "quality"]


class _Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of config structs: unknown keys are errors."""


class TokenRange(_Config, frozen=True):
    """An inclusive range of ``max_tokens``; a request without ``max_tokens`` counts as unbounded."""

    min: int | None = None
    max: int | None = None


class TimeWindow(_Config, frozen=True):
    """When a rule applies, in UTC: ``days`` (empty: every day) and ``hours`` as ``"HH:MM-HH:MM"``.

    The start is inclusive, the end exclusive; a start after the end spans midnight (``"22:00-06:00"``).
    """

    days: tuple[Day, ...] = ()
    hours: str | None = None


class PolicyMatch(_Config, frozen=True):
    """What a rule matches. Every field left empty matches anything; all set fields must match.

    ``operations`` (``chat``, ``completions``, ``embeddings``) and ``surfaces`` (the protocol a call
    arrived in: ``openai``, ``library``) compare exactly; ``models`` are shell-style globs
    (``gpt-4*``); identity fields compare exactly and come from the authenticated principal, never
    from request headers.
    """

    __replaced_keys__: ClassVar[dict[str, str]] = {
        "routes": "policies match what a call does, not its HTTP path: use operations (chat, "
        "completions, embeddings) and/or surfaces (openai, library)",
        "methods": "policies match what a call does, not its HTTP method: use operations and/or surfaces",
    }

    kinds: tuple[PrincipalKind, ...] = ()
    key_ids: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()
    operations: tuple[str, ...] = ()
    surfaces: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    max_tokens: TokenRange | None = None
    stream: bool | None = None
    tools: bool | None = None
    source_cidrs: tuple[str, ...] = ()
    time: TimeWindow | None = None


class PolicyRule(_Config, frozen=True):
    """One ordered rule: when ``match`` matches, ``action`` decides (first match wins).

    Attributes:
        name: Shown in decisions, explanations and logs (default ``rule-<index>``).
        match: The conditions.
        action: ``allow`` or ``deny``.
        reason: Why (sent to the client with a deny).
        rewrite_model: Serve the request with this model group instead (allow only).
        tags: Routing tags to add to the request (allow only).
        cost_preference: A hint for cost-aware routing (allow only).
    """

    name: str | None = None
    match: PolicyMatch = msgspec.field(default_factory=PolicyMatch)
    action: Effect = "allow"
    reason: str | None = None
    rewrite_model: str | None = None
    tags: tuple[str, ...] = ()
    cost_preference: CostPreference | None = None


class PolicyConfig(_Config, frozen=True):
    """The ``policy`` config section: ordered rules and the decision when none matches."""

    default: Effect = "allow"
    rules: tuple[PolicyRule, ...] = ()


class RequestFacts(Protocol):
    """What the policy engine reads of a request: a view of the call's context, built after auth.

    :class:`routeiq_core.context.CallContext` implements it.
    """

    @property
    def principal(self) -> Principal:
        """The authenticated caller."""
        ...

    @property
    def operation(self) -> str:
        """What is asked: ``chat``, ``completions``, ``embeddings``."""
        ...

    @property
    def surface(self) -> str:
        """The protocol the call arrived in (``openai``, ``library``)."""
        ...

    @property
    def model(self) -> str:
        """The model asked for (after a routed name picked one)."""
        ...

    @property
    def max_tokens(self) -> int | None:
        """The request's output cap (None: not set, treated as unbounded)."""
        ...

    @property
    def stream(self) -> bool:
        """Whether the request streams."""
        ...

    @property
    def tools(self) -> bool:
        """Whether the request carries tools/functions."""
        ...

    @property
    def source_ip(self) -> str | None:
        """The client address (the surface honours forwarding headers from trusted proxies only)."""
        ...

    @property
    def at(self) -> dt.datetime:
        """When the call arrived, timezone-aware."""
        ...


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome for one request.

    Attributes:
        allowed: Whether the request may proceed.
        rule: The rule that decided; None when the default did.
        reason: Why (a deny's reason, or a note that the default applied).
        model: The model group to serve with (rewritten, or the requested one).
        tags: Routing tags to add.
        cost_preference: Cost hint for routing.
    """

    allowed: bool
    rule: str | None = None
    reason: str | None = None
    model: str | None = None
    tags: tuple[str, ...] = ()
    cost_preference: CostPreference | None = None


class Check(msgspec.Struct, frozen=True, kw_only=True):
    """One condition of a rule, evaluated against a request."""

    condition: str
    passed: bool
    detail: str


class RuleTrace(msgspec.Struct, frozen=True, kw_only=True):
    """How one rule fared: every condition with the reason it passed or failed."""

    index: int
    name: str
    action: Effect
    matched: bool
    decisive: bool
    checks: tuple[Check, ...]


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """A dry run: the decision and, for every rule in order, whether it matched and why."""

    decision: Decision
    default: Effect
    rules: tuple[RuleTrace, ...]
