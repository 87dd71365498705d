"""``/admin/system`` (version, config hash, readiness, plugins) and ``/admin/metrics/node``.

``/admin/system`` needs ``config.read`` (admins and viewers); ``/admin/metrics/node`` needs
``metrics.read`` and answers the overview's figures of the whole node — from the same numbers as the
Prometheus ``/metrics``: every worker's counters and histograms summed, gauges of the running
workers — now, and as sampled by this worker over the last hour (:class:`NodeHistory`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency

from routeiq_app.node_history import NodeHistory, NodeSample
from routeiq_app.settings import Settings
from routeiq_app.settings.fingerprint import config_hash
from routeiq_core import __version__
from routeiq_core.access import Principal, require
from routeiq_core.health import Readiness, ReadinessReport
from routeiq_core.plugins import PluginManager

OPTIONAL_SECTIONS: Mapping[str, str] = MappingProxyType(
    {"mcp_servers": "/admin/mcp/servers", "a2a_agents": "/admin/a2a/agents"}
)
"""Admin read-outs that exist only in builds that serve them, by the name ``sections`` reports."""


class PluginView(msgspec.Struct, kw_only=True):
    """One enabled plugin, in run order."""

    name: str
    version: str
    capabilities: list[str]
    failure_mode: str
    state: str


class SystemView(msgspec.Struct, kw_only=True):
    """What this gateway runs: its version, configuration, health and plugins."""

    version: str
    config_hash: str
    readiness: ReadinessReport
    plugins: list[PluginView]
    sections: list[str]
    model_groups: int
    routed_models: int
    policy_rules: int


def plugin_views(manager: PluginManager) -> list[PluginView]:
    """The enabled plugins and whether each runs, was quarantined or failed to start."""
    out = []
    for name in manager.names:
        plugin = manager.get(name)
        if plugin is None:
            continue
        spec = plugin.spec
        state = "active"
        if name in manager.failed_startup:
            state = "failed_startup"
        elif name in manager.quarantined:
            state = "quarantined"
        out.append(
            PluginView(
                name=name,
                version=spec.version,
                capabilities=sorted(c.value for c in spec.capabilities),
                failure_mode=spec.failure_mode.value,
                state=state,
            )
        )
    return out


@get("/admin/system", summary="Version, config hash, readiness and plugins of this gateway", tags=["admin"])
async def system_info(
    request: Request,  # type: ignore[type-arg]
    principal: NamedDependency[Principal],
    settings: NamedDependency[Settings],
    readiness: NamedDependency[Readiness],
    plugin_manager: NamedDependency[PluginManager],
) -> SystemView:
    """``config_hash`` is a SHA-256 of the effective settings with secrets redacted (same on every worker)."""
    require(principal, "config.read")
    served = request.app.route_handler_method_map
    return SystemView(
        version=__version__,
        config_hash=config_hash(settings),
        readiness=await readiness.report(),
        plugins=plugin_views(plugin_manager),
        sections=[name for name, path in OPTIONAL_SECTIONS.items() if path in served],
        model_groups=len(settings.model_list),
        routed_models=len(settings.routing.routers),
        policy_rules=len(settings.policy.rules),
    )


class NodeOverview(msgspec.Struct, kw_only=True):
    """The node's figures now, and this worker's samples of them (oldest first, ``interval_s`` apart)."""

    interval_s: float
    now: NodeSample
    samples: list[NodeSample]


@get(
    "/admin/metrics/node",
    summary="The node's calls, errors, latency, tokens, spend over time",
    tags=["admin"],
)
async def node_overview(
    principal: NamedDependency[Principal], node_history: NamedDependency[NodeHistory]
) -> NodeOverview:
    """Every worker's counters and histograms summed (as ``/metrics``), now and sampled over time."""
    require(principal, "metrics.read")
    return NodeOverview(
        interval_s=node_history.interval_s, now=await node_history.now(), samples=node_history.samples()
    )


system_routes = (system_info, node_overview)
