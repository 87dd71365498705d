"""Running the gateway under granian: workers, graceful drain, and config reload across workers.

Reload model: a reload is a rolling restart of the worker processes by the granian supervisor (the
`routeiq serve` main process). Each new worker builds its whole object graph from the re-read config
before it takes traffic; each old worker stops accepting, finishes its in-flight requests and streams
on the old graph (up to ``server.drain_timeout_s``) and exits. The config is validated before any
worker is touched, so an invalid config never replaces a working one. Triggers: SIGHUP to the
supervisor, or ``POST /admin/config/reload`` on any worker (which validates, then signals the
supervisor), so every worker reloads, whichever one got the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from routeiq_app.catalog_builder import build_catalog
from routeiq_app.mcp_setup import share_session_key
from routeiq_app.settings import Settings, load_settings
from routeiq_app.settings.schema import CONFIG_ENV, SUPERVISOR_ENV
from routeiq_core.errors import ConfigurationError
from routeiq_core.health import Lifecycle

logger = logging.getLogger("routeiq.serving")
RETIRE_SIGNAL = signal.SIGUSR1  # supervisor -> worker: a replacement is coming, hand connections over
DRAIN_SIGNAL = signal.SIGUSR2  # supervisor -> worker: shutting down, refuse new requests
HANDOVER_S = 0.3  # time for keep-alive clients to receive a Connection: close before workers roll


def validate_current_config() -> Settings:
    """Load and fully validate the config the workers would load now (file re-read, same env)."""
    settings = load_settings()
    build_catalog(settings, os.environ.get(CONFIG_ENV))
    return settings


def supervisor_pid() -> int | None:
    """The `routeiq serve` main process of this worker, if it runs under one."""
    raw = os.environ.get(SUPERVISOR_ENV)
    if not raw or not raw.isdigit():
        return None
    pid = int(raw)
    return pid if pid == os.getppid() else None


def request_reload() -> int:
    """Validate the config, then ask the supervisor to roll every worker onto it.

    Returns:
        The supervisor pid that was signalled.

    Raises:
        ConfigurationError: the config is invalid (nothing is reloaded).
        RuntimeError: this process is not a worker of `routeiq serve`.
    """
    validate_current_config()
    pid = supervisor_pid()
    if pid is None:
        raise RuntimeError("config reload needs the gateway to run under `routeiq serve`")
    os.kill(pid, signal.SIGHUP)
    logger.info("config validated; asked the supervisor (pid %d) to reload every worker", pid)
    return pid


def run(settings: Settings) -> None:
    """Serve with granian until SIGTERM/SIGINT; SIGHUP reloads the config (validated first)."""
    from granian.constants import Interfaces  # imported only by the command that serves
    from granian.log import LogLevels
    from granian.server import Server

    class RouteIQServer(Server):  # type: ignore[misc, valid-type]
        """Granian's supervisor: validates before a reload, warns workers before replacing/stopping them."""

        def signal_handler_reload(self, *args: Any, **kwargs: Any) -> None:
            try:
                validate_current_config()
            except ConfigurationError as exc:
                for problem in exc.problems:
                    print(f"routeiq: reload refused: {problem}", file=sys.stderr)
                return
            print("routeiq: config valid; reloading workers", file=sys.stderr)
            _signal_workers(RETIRE_SIGNAL)
            time.sleep(HANDOVER_S)
            super().signal_handler_reload(*args, **kwargs)

        def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
            _signal_workers(DRAIN_SIGNAL)
            super().signal_handler_interrupt(*args, **kwargs)

    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    share_session_key(settings)  # one MCP session key for every worker
    server = RouteIQServer(
        "routeiq_app.app:create_app",
        address=settings.server.host,
        port=settings.server.port,
        interface=Interfaces.ASGI,
        workers=settings.server.workers,
        factory=True,
        log_level=LogLevels(settings.server.log_level),
        workers_kill_timeout=settings.server.drain_timeout_s,
    )
    server.serve()


def _signal_workers(sig: signal.Signals) -> None:
    for child in multiprocessing.active_children():
        if child.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, sig)


def install_worker_signals(
    lifecycle: Lifecycle, on_retire: Callable[[], Coroutine[Any, Any, None]] | None = None
) -> None:
    """In a worker of `routeiq serve`: let the supervisor move this worker to retiring or draining.

    ``on_retire`` (the plugins' ``on_config_reload``) runs when a reload is about to replace it.
    """
    if supervisor_pid() is None:
        return
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    def retire() -> None:
        lifecycle.mark_retiring()
        if on_retire is not None:
            task = loop.create_task(on_retire())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    loop.add_signal_handler(RETIRE_SIGNAL, retire)
    loop.add_signal_handler(DRAIN_SIGNAL, lifecycle.mark_draining)


def per_worker_notes(settings: Settings) -> list[str]:
    """What is kept per worker process when several run (said at startup, documented)."""
    if settings.server.workers <= 1:
        return []
    n = settings.server.workers
    return [
        f"{n} workers: circuit breakers, deployment statistics and /admin/metrics are per worker "
        "(/metrics sums them) "
        "(each worker learns upstream health on its own; acceptable, they converge within a few requests)",
        f"{n} workers: server.max_concurrent_requests applies to each worker "
        f"({settings.server.max_concurrent_requests} x {n} in total)",
    ]
