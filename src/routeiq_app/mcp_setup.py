"""Building the MCP gateway from ``mcp`` settings: upstreams, SSRF-guarded HTTP, sealed sessions.

Upstream connections need the running event loop, so the container opens them in the lifespan
(:func:`run_mcp`) and fills the worker's :class:`McpRuntime`; ``/mcp`` answers 503 until then.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Sequence

import aiohttp
import anyio

from routeiq_adapters.crypto import AesGcmSealer
from routeiq_adapters.mcp.http_upstream import HttpMcpUpstream
from routeiq_adapters.mcp.stdio_upstream import StdioMcpUpstream
from routeiq_adapters.net import guarded_session
from routeiq_adapters.state.redis_revocations import RedisSessionRevocations
from routeiq_app.settings import Settings
from routeiq_app.settings.mcp import McpServerSettings
from routeiq_app.surfaces.mcp.dispatch import Dispatcher
from routeiq_app.surfaces.mcp.runtime import McpRuntime
from routeiq_core import __version__
from routeiq_core.access import PolicyEngine
from routeiq_core.access.spend import SpendLedger
from routeiq_core.access.teams import TeamStore
from routeiq_core.audit.trail import AuditTrail
from routeiq_core.calls import CallAccess
from routeiq_core.mcp import (
    CallLedger,
    GuardedUpstream,
    Handshake,
    McpService,
    McpUpstream,
    Revocations,
    SessionBook,
    ToolAccess,
    ToolFilter,
    UpstreamCatalog,
)
from routeiq_core.metrics import Metrics
from routeiq_core.net import AddressPolicy
from routeiq_core.request_log import RequestLog
from routeiq_core.resilience import BreakerConfig, BreakerRegistry, reporting_transitions

logger = logging.getLogger("routeiq.mcp")

SESSION_KEY_ENV = "ROUTEIQ_MCP__SESSION_KEY"
"""Where `routeiq serve` puts a generated session key for its workers (read as ``mcp.session_key``)."""


def session_secret(settings: Settings) -> str:
    """The secret sealing legacy sessions: ``mcp.session_key``, else one derived from the master key.

    Without either, a random one for this process (with a warning: sessions end with it, and other
    processes cannot open them). ``routeiq serve`` generates one for all its workers instead
    (:func:`share_session_key`).
    """
    if settings.mcp.session_key:
        return settings.mcp.session_key
    master = settings.security.master_key
    if master:
        return hashlib.sha256(b"routeiq-mcp-sessions\x00" + master.encode()).hexdigest()
    if settings.mcp.servers:
        logger.warning(
            "mcp.session_key is not set and there is no master key: legacy MCP sessions are sealed with "
            "a key of this process only; they end when it restarts and other processes cannot resume them"
        )
    return secrets.token_hex(32)


def share_session_key(settings: Settings) -> None:
    """Before `routeiq serve` starts workers: give them one session key when none can be derived."""
    if (
        not settings.mcp.session_key
        and not settings.security.master_key
        and SESSION_KEY_ENV not in os.environ
    ):
        os.environ[SESSION_KEY_ENV] = secrets.token_hex(32)


def session_book(settings: Settings, ended: Revocations | None = None) -> SessionBook:
    """Seals and opens legacy sessions for ``mcp.session_ttl_s``.

    ``ended`` remembers ended sessions (default: this worker's memory).
    """
    return SessionBook(
        AesGcmSealer(session_secret(settings)), ttl_s=settings.mcp.session_ttl_s, revocations=ended
    )


def revocations(settings: Settings) -> RedisSessionRevocations | None:
    """Ended sessions shared through ``state.redis_url`` (None without Redis: each worker's own)."""
    url = settings.state.redis_url
    return RedisSessionRevocations(url, namespace=settings.state.namespace) if url else None


def tool_access(settings: Settings, policy: PolicyEngine) -> ToolAccess:
    """Which tools callers see and call: the servers' filters and the policy."""
    filters = {
        server.name: ToolFilter(allow=tuple(server.tools.allow), deny=tuple(server.tools.deny))
        for server in settings.mcp.servers
    }
    return ToolAccess(filters, policy)


def _upstream(server: McpServerSettings, http: aiohttp.ClientSession | None) -> McpUpstream:
    client_info = {"name": "routeiq", "version": __version__}
    if server.command is not None:
        return StdioMcpUpstream(
            name=server.name,
            command=[server.command, *server.args],
            env=server.env,
            cwd=server.cwd,
            timeout_s=server.timeout_s,
            max_concurrency=server.max_concurrency,
            client_info=client_info,
        )
    assert server.url is not None
    assert http is not None
    return HttpMcpUpstream(
        name=server.name,
        url=server.url,
        http=http,
        headers=server.headers,
        timeout_s=server.timeout_s,
        era=server.era,
        max_concurrency=server.max_concurrency,
        client_info=client_info,
        legacy_sessions=server.legacy_sessions,
    )


def _breakers(settings: Settings, metrics: Metrics) -> BreakerRegistry:
    resilience = settings.resilience
    config = BreakerConfig(
        failure_threshold=resilience.breaker_failure_threshold, cooldown_s=resilience.breaker_cooldown_s
    )
    return BreakerRegistry(config, clock=time.monotonic, on_transition=reporting_transitions(metrics))


async def run_mcp(
    runtime: McpRuntime,
    settings: Settings,
    access: CallAccess,
    policy: PolicyEngine,
    metrics: Metrics,
    spend: SpendLedger | None = None,
    teams: TeamStore | None = None,
    audit: AuditTrail | None = None,
    request_log: RequestLog | None = None,
) -> AsyncIterator[McpRuntime]:
    """Open the upstreams (each HTTP one through the SSRF guard), start them, fill ``runtime``; close all."""
    mcp = settings.mcp
    policy_net = AddressPolicy.from_cidrs(mcp.allow_private_networks)
    sessions: list[aiohttp.ClientSession] = []
    upstreams: list[McpUpstream] = []
    ended = revocations(settings)
    try:
        for server in mcp.servers:
            http = None
            if server.url is not None:
                http = guarded_session(policy_net, read_timeout_s=None, limit=server.max_concurrency * 2)
                sessions.append(http)
            upstreams.append(_upstream(server, http))
        async with anyio.create_task_group() as group:
            for upstream in upstreams:
                group.start_soon(upstream.start)
        runtime.dispatcher = build_dispatcher(
            settings,
            upstreams,
            access,
            policy,
            metrics,
            spend,
            teams,
            audit,
            ended=ended,
            request_log=request_log,
        )
        yield runtime
    finally:
        runtime.dispatcher = None
        with anyio.CancelScope(shield=True):
            for upstream in upstreams:
                await upstream.aclose()
            for http in sessions:
                await http.close()
            if ended is not None:
                await ended.aclose()


def build_dispatcher(
    settings: Settings,
    upstreams: Sequence[McpUpstream],
    access: CallAccess,
    policy: PolicyEngine,
    metrics: Metrics,
    spend: SpendLedger | None = None,
    teams: TeamStore | None = None,
    audit: AuditTrail | None = None,
    *,
    ended: Revocations | None = None,
    request_log: RequestLog | None = None,
) -> Dispatcher:
    """The MCP surface's dispatcher over started ``upstreams`` (tests pass their own upstreams)."""
    mcp = settings.mcp
    breakers = _breakers(settings, metrics)
    limits = {server.name: server.max_concurrency for server in mcp.servers}
    guarded = {
        u.name: GuardedUpstream(u, breakers.get(f"mcp:{u.name}"), limits.get(u.name, 32)) for u in upstreams
    }
    catalog = UpstreamCatalog(guarded, ttl_s=mcp.list_cache_ttl_s, timeout_s=mcp.list_timeout_s)
    ledger = CallLedger(
        quota=access.quota, metrics=metrics, spend=spend, request_log=request_log, audit=audit
    )
    service = McpService(
        access=access,
        upstreams=guarded,
        catalog=catalog,
        tools=tool_access(settings, policy),
        ledger=ledger,
        teams=teams,
        single_upstream=mcp.single_upstream_mode,
        team_cache_ttl_s=settings.keys.cache_ttl_s,
    )
    return Dispatcher(
        service,
        Handshake(guarded, timeout_s=mcp.list_timeout_s),  # an initialize waits for no slow upstream
        session_book(settings, ended),
        server_info={"name": "routeiq", "version": __version__},
        keepalive_s=mcp.keepalive_s,
    )
