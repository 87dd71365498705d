"""The plugin manager: dependency order, capability checks, failure isolation, health."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import anyio

from routeiq_core import metric_names as names
from routeiq_core.catalog import Deployment
from routeiq_core.errors import ConfigurationError, RouteIQError
from routeiq_core.health import ComponentHealth
from routeiq_core.metrics import Metrics
from routeiq_core.plugins.port import (
    Capability,
    CapabilityError,
    FailureMode,
    Plugin,
    PluginContext,
    PluginFailedError,
    ShortCircuit,
)
from routeiq_core.sse import DONE, error_frame

logger = logging.getLogger("routeiq.plugins")
SHUTDOWN_TIMEOUT_S = 5.0


def order_plugins(plugins: Sequence[Plugin]) -> list[Plugin]:
    """Topological order by ``depends_on`` (config order among equals).

    Raises:
        ConfigurationError: duplicate names, missing dependencies, cycles — all listed.
    """
    by_name: dict[str, Plugin] = {}
    problems: list[str] = []
    for plugin in plugins:
        if plugin.spec.name in by_name:
            problems.append(f"plugins: {plugin.spec.name!r} is enabled twice")
        by_name[plugin.spec.name] = plugin
    for plugin in plugins:
        missing = [d for d in plugin.spec.depends_on if d not in by_name]
        if missing:
            problems.append(
                f"plugins.{plugin.spec.name}: depends on {', '.join(missing)}, which is not enabled"
            )
    if problems:
        raise ConfigurationError(problems)
    ordered: list[Plugin] = []
    placed: set[str] = set()
    pending = list(plugins)
    while pending:
        ready = [p for p in pending if all(d in placed for d in p.spec.depends_on)]
        if not ready:
            cycle = " -> ".join(p.spec.name for p in pending)
            raise ConfigurationError([f"plugins: dependency cycle among {cycle}"])
        for plugin in ready:
            ordered.append(plugin)
            placed.add(plugin.spec.name)
        pending = [p for p in pending if p.spec.name not in placed]
    return ordered


class PluginManager:
    """Runs every enabled plugin's hooks in dependency order on the request path.

    A plugin raising a :class:`RouteIQError` refuses the request on purpose (e.g. a guardrail); any
    other exception is a failure handled by the plugin's failure mode. Returning a modification
    without the matching capability is a :class:`CapabilityError` failure and the modification is
    dropped.

    Args:
        plugins: Built plugins, in config order.
        allowed_capabilities: What the config allows (None: everything); a plugin needing more is
            refused at startup.
        metrics: Where failures and quarantines are counted.
    """

    name = "plugins"

    def __init__(
        self, plugins: Sequence[Plugin], *, allowed_capabilities: frozenset[str] | None, metrics: Metrics
    ) -> None:
        ordered = order_plugins(plugins)
        if allowed_capabilities is not None:
            problems = [
                f"plugins.{p.spec.name}: needs capability {c.value!r}, not in plugins.allowed_capabilities"
                for p in ordered
                for c in sorted(p.spec.capabilities)
                if c.value not in allowed_capabilities
            ]
            if problems:
                raise ConfigurationError(problems)
        self._plugins = ordered
        self._metrics = metrics
        self._failures: dict[str, int] = {}
        self.quarantined: set[str] = set()
        self.failed_startup: set[str] = set()

    @property
    def enabled(self) -> bool:
        """Whether any plugin runs (the request path skips all hooks otherwise)."""
        return bool(self._plugins)

    @property
    def names(self) -> list[str]:
        """Plugin names in run order."""
        return [p.spec.name for p in self._plugins]

    def get(self, name: str) -> Plugin | None:
        """The plugin called ``name``, if enabled."""
        return next((p for p in self._plugins if p.spec.name == name), None)

    def _active(self) -> list[Plugin]:
        return [p for p in self._plugins if p.spec.name not in self.quarantined]

    async def startup(self) -> None:
        """``on_startup`` of each plugin in order, each bounded by its startup timeout."""
        for plugin in self._plugins:
            try:
                with anyio.fail_after(plugin.spec.startup_timeout_s):
                    await plugin.on_startup()
            except Exception as exc:
                self.failed_startup.add(plugin.spec.name)
                if plugin.spec.failure_mode is FailureMode.ABORT:
                    raise ConfigurationError(
                        [f"plugins.{plugin.spec.name}: failed to start: {exc!r}"]
                    ) from exc
                self.quarantined.add(plugin.spec.name)
                logger.error("plugin %s failed to start (%r); it is switched off", plugin.spec.name, exc)

    async def shutdown(self) -> None:
        """``on_shutdown`` in reverse order; failures are logged, never raised."""
        for plugin in reversed(self._plugins):
            try:
                with anyio.fail_after(SHUTDOWN_TIMEOUT_S):
                    await plugin.on_shutdown()
            except Exception:
                logger.exception("plugin %s failed to shut down", plugin.spec.name)

    async def before_request(self, ctx: PluginContext) -> ShortCircuit | None:
        """Each plugin may replace the payload (``request.modify``) or answer the request itself."""
        for plugin in self._active():
            result = await self._call(plugin, "before_request", plugin.before_request, ctx)
            if isinstance(result, ShortCircuit):
                return result
            if isinstance(result, dict) and self._allowed(
                plugin, Capability.REQUEST_MODIFY, "before_request"
            ):
                ctx.payload = result
        return None

    async def before_call(self, ctx: PluginContext, deployment: Deployment) -> None:
        """The request was routed: tell every plugin which deployment serves it."""
        ctx.deployment = deployment
        for plugin in self._active():
            await self._call(plugin, "before_call", plugin.before_call, ctx, deployment)

    async def wrap_stream(self, ctx: PluginContext, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Pass each chunk through every plugin; flush ``on_stream_end`` frames before ``[DONE]``."""
        async for chunk in chunks:
            if chunk == DONE:
                for frame in await self._stream_end(ctx):
                    yield frame
                yield chunk
                continue
            try:
                out = await self._chunk(ctx, chunk)
            except RouteIQError as exc:  # a guard refused mid-stream: the client gets an SSE error event
                yield error_frame(exc)
                return
            if out:
                yield out

    async def _chunk(self, ctx: PluginContext, chunk: bytes) -> bytes:
        out = chunk
        for plugin in self._active():
            changed = await self._call(plugin, "on_stream_chunk", plugin.on_stream_chunk, ctx, out)
            modified = isinstance(changed, bytes) and changed != out
            if modified and self._allowed(plugin, Capability.RESPONSE_MODIFY, "on_stream_chunk"):
                out = changed
        return out

    async def _stream_end(self, ctx: PluginContext) -> list[bytes]:
        frames: list[bytes] = []
        for plugin in self._active():
            extra = await self._call(plugin, "on_stream_end", plugin.on_stream_end, ctx)
            if extra and self._allowed(plugin, Capability.RESPONSE_MODIFY, "on_stream_end"):
                frames.extend(extra)
        return frames

    async def after_response(self, ctx: PluginContext, body: bytes | None) -> bytes | None:
        """Every plugin sees the answer; one with ``response.modify`` may replace a non-streamed body."""
        for plugin in self._active():
            changed = await self._call(plugin, "after_response", plugin.after_response, ctx, body)
            modified = isinstance(changed, bytes) and body is not None and changed != body
            if modified and self._allowed(plugin, Capability.RESPONSE_MODIFY, "after_response"):
                body = changed
        return body

    async def on_error(self, ctx: PluginContext, error: RouteIQError) -> None:
        """Tell every plugin the request failed (their own failures here are only logged)."""
        for plugin in self._active():
            try:
                await plugin.on_error(ctx, error)
            except Exception:
                logger.exception("plugin %s failed in on_error", plugin.spec.name)

    async def on_config_reload(self) -> None:
        """A reload is about to replace this worker."""
        for plugin in self._active():
            try:
                await plugin.on_config_reload()
            except Exception:
                logger.exception("plugin %s failed in on_config_reload", plugin.spec.name)

    async def check(self) -> ComponentHealth:
        """Readiness: degraded while a plugin is quarantined or failed to start."""
        off = sorted(self.quarantined | self.failed_startup)
        if off:
            return ComponentHealth(
                name=self.name, status="degraded", reason="switched off: " + ", ".join(off)
            )
        return ComponentHealth(name=self.name, status="ok")

    def _allowed(self, plugin: Plugin, capability: Capability, hook: str) -> bool:
        if capability in plugin.spec.capabilities:
            return True
        error = CapabilityError(
            f"plugin {plugin.spec.name!r} used {capability.value!r} in {hook} without declaring it"
        )
        self._failed(plugin, hook, error)
        return False

    async def _call(
        self, plugin: Plugin, hook: str, method: Callable[..., Awaitable[Any]], *args: Any
    ) -> Any:
        try:
            return await method(*args)
        except RouteIQError as exc:
            if isinstance(exc, CapabilityError | PluginFailedError):
                self._failed(plugin, hook, exc)
                return None
            self._metrics.increment(names.PLUGIN_REFUSALS, 1.0, plugin=plugin.spec.name, code=str(exc.code))
            logger.info("plugin %s refused the request: %s", plugin.spec.name, exc.code)
            raise
        except Exception as exc:
            self._failed(plugin, hook, exc)
            return None

    def _failed(self, plugin: Plugin, hook: str, exc: BaseException) -> None:
        name = plugin.spec.name
        self._failures[name] = self._failures.get(name, 0) + 1
        self._metrics.increment(names.PLUGIN_FAILURES, 1.0, plugin=name, hook=hook)
        logger.error("plugin %s failed in %s: %r", name, hook, exc)
        mode = plugin.spec.failure_mode
        if mode is FailureMode.ABORT:
            raise PluginFailedError(f"Plugin {name!r} failed in {hook}; the request was stopped.") from exc
        if mode is FailureMode.QUARANTINE and self._failures[name] >= plugin.spec.quarantine_after:
            self.quarantined.add(name)
            self._metrics.increment(names.PLUGIN_QUARANTINES, 1.0, plugin=name)
            logger.error("plugin %s quarantined after %d failures", name, self._failures[name])
