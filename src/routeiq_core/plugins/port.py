"""The plugin port: what a plugin declares and the hooks the request path awaits.

Hook order on one request: ``before_request`` (may modify the request or answer it itself) →
routing → ``before_call`` (knows the deployment) → the upstream call → ``on_stream_chunk`` for each
chunk of a stream, ``on_stream_end`` before ``[DONE]`` → ``after_response`` (may replace a
non-streamed body) → ``on_error`` when the request failed. ``on_startup``/``on_shutdown`` run with the
app, ``on_config_reload`` when a reload is about to replace this worker.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from routeiq_core.catalog import Deployment
from routeiq_core.context import CallContext
from routeiq_core.errors import RouteIQError
from routeiq_core.providers import Usage


class Capability(enum.StrEnum):
    """What a plugin may do; the manager refuses a plugin needing one the config does not allow."""

    REQUEST_READ = "request.read"
    REQUEST_MODIFY = "request.modify"
    RESPONSE_READ = "response.read"
    RESPONSE_MODIFY = "response.modify"
    NETWORK = "network"
    STORAGE = "storage"


class FailureMode(enum.StrEnum):
    """What a plugin's unexpected exception does to the request.

    ``continue``: logged and counted, the request goes on. ``abort``: the request fails (502
    ``plugin_failed``). ``quarantine``: like continue, and after ``quarantine_after`` failures the
    plugin is switched off for this process (readiness shows it degraded).
    """

    CONTINUE = "continue"
    ABORT = "abort"
    QUARANTINE = "quarantine"


class PluginSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A plugin's declaration."""

    name: str
    version: str = "0"
    depends_on: tuple[str, ...] = ()
    capabilities: frozenset[Capability] = frozenset()
    failure_mode: FailureMode = FailureMode.CONTINUE
    quarantine_after: int = 3
    startup_timeout_s: float = 5.0


class ShortCircuit(msgspec.Struct, frozen=True, kw_only=True):
    """An answer a plugin gives instead of calling an upstream (e.g. a cache hit).

    ``body`` is the OpenAI JSON for a non-streamed request; ``frames`` the SSE frames (``[DONE]``
    excluded) for a streamed one. ``headers`` are added to the response.
    """

    body: bytes | None = None
    frames: tuple[bytes, ...] | None = None
    headers: Mapping[str, str] = msgspec.field(default_factory=dict)
    usage: Usage | None = None


PluginContext = CallContext
"""What every hook receives: the call's one context (:class:`routeiq_core.context.CallContext`).

``payload`` is the client's JSON body (plugins with ``request.modify`` replace it through
``before_request``'s return value, never by mutating it); ``deployment`` is set before
``before_call``; ``usage`` and ``cost`` once known; ``state`` is per-plugin scratch space
(:meth:`CallContext.scratch`); ``response_headers`` are added to the answer.
"""


class Plugin(Protocol):
    """A RouteIQ plugin. Subclass :class:`BasePlugin` to implement only the hooks you need.

    Return values: ``before_request`` → a new payload (``request.modify``), a :class:`ShortCircuit`,
    or None; ``on_stream_chunk`` → the chunk to send (``response.modify`` to change it; ``b""`` holds
    it back); ``on_stream_end`` → extra frames to send before ``[DONE]``; ``after_response`` → a new
    body (``response.modify``) or None. Raise a :class:`RouteIQError` (e.g. a content-policy
    violation) to refuse the request on purpose; any other exception is a plugin failure handled by
    its failure mode.
    """

    spec: PluginSpec

    async def on_startup(self) -> None:
        """Open resources (bounded by the spec's startup timeout)."""
        ...

    async def on_shutdown(self) -> None:
        """Close resources."""
        ...

    async def before_request(self, ctx: PluginContext) -> dict[str, Any] | ShortCircuit | None:
        """Inspect, replace or answer the request."""
        ...

    async def before_call(self, ctx: PluginContext, deployment: Deployment) -> None:
        """The request was routed to ``deployment``."""
        ...

    async def on_stream_chunk(self, ctx: PluginContext, chunk: bytes) -> bytes:
        """Pass, modify or hold back one chunk."""
        ...

    async def on_stream_end(self, ctx: PluginContext) -> list[bytes]:
        """Frames to flush before ``[DONE]``."""
        ...

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """See or replace the answer (None for a stream)."""
        ...

    async def on_error(self, ctx: PluginContext, error: RouteIQError) -> None:
        """The request failed."""
        ...

    async def on_config_reload(self) -> None:
        """A reload is about to replace this worker."""
        ...


class BasePlugin:
    """No-op implementations of every hook (a base with shared logic, so an ABC-like class)."""

    spec: PluginSpec

    async def on_startup(self) -> None:
        """Open resources."""

    async def on_shutdown(self) -> None:
        """Close resources."""

    async def before_request(self, ctx: PluginContext) -> dict[str, Any] | ShortCircuit | None:
        """Inspect, modify or answer the request."""
        return None

    async def before_call(self, ctx: PluginContext, deployment: Deployment) -> None:
        """The request was routed to ``deployment``."""

    async def on_stream_chunk(self, ctx: PluginContext, chunk: bytes) -> bytes:
        """Pass, modify or hold back one chunk of SSE frames."""
        return chunk

    async def on_stream_end(self, ctx: PluginContext) -> list[bytes]:
        """Frames to flush before ``[DONE]``."""
        return []

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """See (or replace) the answer; ``body`` is None for a stream."""
        return None

    async def on_error(self, ctx: PluginContext, error: RouteIQError) -> None:
        """The request failed with ``error``."""

    async def on_config_reload(self) -> None:
        """A config reload is about to replace this worker."""


class PluginFailedError(RouteIQError):
    """A plugin with the ``abort`` failure mode failed."""

    status_code = 502
    error_type = "api_error"
    default_code = "plugin_failed"


class CapabilityError(RouteIQError):
    """A plugin used a capability it did not declare (or the config does not allow)."""

    status_code = 500
    error_type = "api_error"
    default_code = "plugin_capability"
