"""Plugins: the port, and the manager that runs them on the request path."""

from routeiq_core.plugins.manager import PluginManager, order_plugins
from routeiq_core.plugins.port import (
    BasePlugin,
    Capability,
    CapabilityError,
    FailureMode,
    Plugin,
    PluginContext,
    PluginFailedError,
    PluginSpec,
    ShortCircuit,
)

__all__ = [
    "BasePlugin",
    "Capability",
    "CapabilityError",
    "FailureMode",
    "Plugin",
    "PluginContext",
    "PluginFailedError",
    "PluginManager",
    "PluginSpec",
    "ShortCircuit",
    "order_plugins",
]
