"""Readiness of the model catalog: is every model group servable by some deployment?"""

from __future__ import annotations

from routeiq_core.catalog import ModelCatalog
from routeiq_core.health import ComponentHealth
from routeiq_core.resilience.circuit_breaker import BreakerRegistry


class DeploymentsHealthCheck:
    """Degraded when a model group has no deployment whose breaker lets traffic through."""

    name = "deployments"

    def __init__(self, catalog: ModelCatalog, breakers: BreakerRegistry) -> None:
        self._catalog = catalog
        self._breakers = breakers

    async def check(self) -> ComponentHealth:
        """Name the groups with no healthy deployment."""
        if not self._catalog.groups:
            return ComponentHealth(name=self.name, status="degraded", reason="no model groups are configured")
        down = [
            g.name
            for g in self._catalog.groups
            if not any(self._breakers.get(d.id).available() for d in g.deployments)
        ]
        if down:
            return ComponentHealth(
                name=self.name, status="degraded", reason="no healthy deployment for: " + ", ".join(down)
            )
        return ComponentHealth(name=self.name, status="ok")
