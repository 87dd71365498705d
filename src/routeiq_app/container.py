"""The dependency-injector container: the only place stateful objects are built.

A fresh container per app (and per test). Settings are read lazily, the first time something asks
for them, never at import time.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from routeiq_app.logging_setup import configure_logging
from routeiq_app.settings import load_settings
from routeiq_core import __version__
from routeiq_core.health import Lifecycle, Readiness
from routeiq_core.resilience import ConcurrencyLimiter


class Container(containers.DeclarativeContainer):
    """Every stateful object of one RouteIQ process."""

    settings = providers.Singleton(load_settings)

    logging = providers.Resource(configure_logging, settings=settings)

    lifecycle = providers.Singleton(Lifecycle)

    limiter = providers.Singleton(ConcurrencyLimiter, limit=settings.provided.server.max_concurrent_requests)

    health_checks = providers.List()

    readiness = providers.Singleton(Readiness, lifecycle=lifecycle, checks=health_checks, version=__version__)
