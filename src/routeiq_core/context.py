"""One request as every step of the call use case sees it.

:class:`routeiq_core.calls.CallService` builds a :class:`CallContext` from a surface's command and
fills it in as the request goes: who calls (authentication), what is asked (the decoded payload and
routing hints), which model group serves it (routed names, policy), where it went (routing), and
what it used and cost (settlement). The steps read it through the views they declare —
``RouteContext`` for deployment strategies, ``RequestFacts`` for the policy engine; plugins take it
whole — so the facts of a request exist once, never copied into another shape.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from routeiq_core.access.principal import Principal
from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.native import NativeRequest
from routeiq_core.providers import Operation, Usage
from routeiq_core.surfaces import LIBRARY_SURFACE
from routeiq_core.tracing import NOOP_SPAN, Span


class RouteDecision(msgspec.Struct, kw_only=True):
    """Where a request went and how many attempts it took."""

    model_group: str
    deployment_id: str
    strategy: str
    attempts: int


class RoutedChoice(msgspec.Struct, frozen=True, kw_only=True):
    """What a trained router chose for a routed model name (``auto``), and why.

    ``version`` is the registry version of the router that chose (None: a router from a directory);
    during a canary, the candidate's version for the calls it answers.
    """

    router: str
    model_group: str
    reason: str
    version: int | None = None


class CallContext(msgspec.Struct, kw_only=True):
    """The facts of one call, filled in step by step (see the module docstring).

    Attributes:
        request_id: The id the surface assigned (``X-Request-ID``).
        operation: What is asked (chat, completions, embeddings).
        surface: The protocol it arrived in (``openai``, ``library``, ...).
        received_at: Unix time the call arrived (policy time windows use it).
        source_ip: The client's address as the surface established it.
        principal: The authenticated caller.
        payload: The request body in the gateway's canonical (OpenAI) shape; plugins with
            ``request.modify`` replace it through their hook's return value.
        stream: Whether the answer streams.
        client_wants_usage: Whether a streamed answer should end with a usage chunk.
        model: The model name asked for; after a routed name or a policy rewrite, the served one.
        requested_model: The model name exactly as the client asked for it.
        group: The model group serving the call, resolved once.
        tags: Routing tags (from the client and from policy rules).
        conversation_id: Keeps a conversation on one deployment (affinity, experiments).
        user: The end user the client names (OpenAI's ``user`` field), a routing hint only.
        estimated_prompt_tokens: A cheap upper-ish estimate of the prompt's tokens.
        max_tokens: The output cap the request sets, if any.
        routed: The trained router's choice, when ``model`` was a routed name.
        deployment: The deployment of the current (finally the serving) attempt.
        pinned_deployment: The only deployment that may serve the call (a stored file's or batch's).
        attempts: Upstream attempts made so far (answered or not).
        route: Where the call went, once a deployment answered.
        usage: Tokens used (reported by the upstream, or estimated: see ``usage_estimated``).
        usage_estimated: True when the upstream reported no usage (a cut stream, say).
        cost: What the call cost, computed once from the serving deployment's prices.
        first_chunk_at: Unix time a stream's first frame arrived from the upstream.
        trace_id: The W3C trace id of the call (32 hex digits), when tracing is on.
        response_id: The id a surface gave the answer (a stored response's ``resp_…``); None: the
            request log takes the answer body's ``id``.
        span: The call's span (the HTTP server span, say): upstream attempts are its children.
        short_circuited: True when a plugin answered (a cache hit) and no upstream was called.
        native: The client's own body, forwarded as is to a deployment that speaks its protocol
            (None: the call is always translated, or arrived in the canonical shape).
        served_natively: True when the serving attempt forwarded ``native``: the answer is in the
            client's protocol, not the canonical one.
        state: Per-plugin scratch space, keyed by plugin name.
        response_headers: Headers plugins add to the answer.
    """

    request_id: str | None = None
    operation: Operation = Operation.CHAT
    surface: str = LIBRARY_SURFACE
    received_at: float = 0.0
    source_ip: str | None = None
    principal: Principal = msgspec.field(default_factory=Principal.anonymous)
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    stream: bool = False
    client_wants_usage: bool = False
    model: str = ""
    requested_model: str = ""
    group: ModelGroup | None = None
    tags: tuple[str, ...] = ()
    conversation_id: str | None = None
    user: str | None = None
    estimated_prompt_tokens: int = 0
    max_tokens: int | None = None
    routed: RoutedChoice | None = None
    deployment: Deployment | None = None
    pinned_deployment: str | None = None
    attempts: int = 0
    route: RouteDecision | None = None
    usage: Usage | None = None
    usage_estimated: bool = False
    cost: float = 0.0
    first_chunk_at: float | None = None
    trace_id: str | None = None
    response_id: str | None = None
    span: Span = NOOP_SPAN
    short_circuited: bool = False
    native: NativeRequest | None = None
    served_natively: bool = False
    state: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    response_headers: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def key_id(self) -> str | None:
        """The caller's virtual key id (None for the master key and anonymous callers)."""
        return self.principal.key_id

    @property
    def team(self) -> str | None:
        """The caller's team."""
        return self.principal.team

    @property
    def model_group(self) -> str | None:
        """The serving model group's name, once resolved (the requested name for a wildcard group)."""
        return self.group.name if self.group is not None else None

    @property
    def configured_group(self) -> str | None:
        """The configured group serving the call, once resolved (a wildcard group's ``openai/*``).

        Metric labels and group quotas use it, so they stay bounded whatever names clients send.
        """
        group = self.group
        return None if group is None else group.pattern or group.name

    @property
    def tools(self) -> bool:
        """Whether the request carries tools or functions."""
        return bool(self.payload.get("tools") or self.payload.get("functions"))

    @property
    def at(self) -> dt.datetime:
        """When the call arrived, timezone-aware (UTC)."""
        return dt.datetime.fromtimestamp(self.received_at, dt.UTC)

    def scratch(self, plugin: str) -> dict[str, Any]:
        """The per-request scratch dict of ``plugin``."""
        return self.state.setdefault(plugin, {})
