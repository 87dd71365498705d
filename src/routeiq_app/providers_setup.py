"""Build and open the provider adapters the catalog actually uses (LiteLLM only if configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

from routeiq_core.catalog import ModelCatalog
from routeiq_core.providers import ProviderClient, WarmsUp


def select_clients(
    catalog: ModelCatalog, factories: Mapping[str, Callable[[], ProviderClient]]
) -> dict[str, ProviderClient]:
    """One client per adapter kind in use; unused adapters (and their imports) are never built."""
    kinds = {d.adapter for g in catalog.groups for d in g.deployments}
    return {kind: factories[kind]() for kind in sorted(kinds)}


async def open_clients(clients: Mapping[str, ProviderClient], catalog: ModelCatalog) -> AsyncIterator[None]:
    """Container Resource: warm connection pools at startup, close every client at shutdown."""
    deployments = [d for g in catalog.groups for d in g.deployments]
    for client in clients.values():
        if isinstance(client, WarmsUp):
            await client.open(deployments)
    try:
        yield
    finally:
        for client in clients.values():
            await client.aclose()
