"""Routed model names (`model: "auto"`): loading, checking and reloading their trained routers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from routeiq_adapters.embeddings import embedder_loaders
from routeiq_adapters.vector import FaissVectorIndex, faiss_index_factory
from routeiq_app.settings import Settings
from routeiq_app.settings.routing import ModelRouterSettings
from routeiq_core.calls import RoutedModels, RoutedName
from routeiq_core.catalog import Deployment, ModelCatalog
from routeiq_core.errors import ConfigurationError, InvalidRequestError
from routeiq_core.providers import ProviderClient
from routeiq_core.routing.learned import (
    ArtifactError,
    RouterRegistry,
    RoutingModel,
    load_router,
    read_metadata,
)
from routeiq_core.routing.learned.provider_embedder import ProviderEmbedder, provider_embedder_loader

ProviderFor = Callable[[str], tuple[ProviderClient, Deployment]]


def load_artifact(path: str, provider_for: ProviderFor | None = None) -> RoutingModel:
    """Verify and load a router artifact.

    Faiss indexes load through the adapter; a sentence-transformers embedder loads its local model
    (the ``embeddings`` extra); an embeddings-API embedder gets the gateway's own provider client for
    its deployment.
    """
    loaders = dict(embedder_loaders())
    if provider_for is not None:
        loaders[ProviderEmbedder.kind] = provider_embedder_loader(provider_for)
    return load_router(
        path,
        index_factory=faiss_index_factory,
        index_loaders={"faiss": FaissVectorIndex.load},
        embedder_loaders=loaders,
    )


def router_problems(settings: Settings, catalog_groups: set[str], where: str) -> list[str]:
    """Check every configured router: a verified artifact whose models map to existing groups."""
    problems: list[str] = []
    for i, entry in enumerate(settings.routing.routers):
        at = f"{where}routing.routers[{i}]"
        if entry.name in catalog_groups:
            problems.append(f"{at}.name: {entry.name!r} is already a model group")
        if entry.registry_name is not None:  # its versions are checked as they are promoted
            continue
        try:
            meta = read_metadata(Path(entry.artifact))
        except (ArtifactError, OSError) as exc:
            problems.append(f"{at}.artifact: {exc}")
            continue
        for model in meta.models:
            group = entry.model_map.get(model, model)
            if group not in catalog_groups:
                problems.append(
                    f"{at}: the router's model {model!r} maps to {group!r}, which is not a model group; "
                    f"add it to routing.routers[{i}].model_map"
                )
    return problems


class ModelRouting:
    """Loads the routers of this process's routed names (``routing.routers``) and reloads them.

    The per-call choice is the core's (:class:`~routeiq_core.calls.RoutedModels`, in :attr:`routed`).

    Args:
        settings: The ``routing.routers`` entries.
        catalog: To check chosen groups exist.
    """

    def __init__(
        self, settings: Settings, catalog: ModelCatalog, clients: Mapping[str, ProviderClient] | None = None
    ) -> None:
        self._entries: Mapping[str, ModelRouterSettings] = {r.name: r for r in settings.routing.routers}
        self._catalog = catalog
        self._clients = clients or {}
        registry: RouterRegistry[RoutingModel] = RouterRegistry(
            {
                name: load_artifact(entry.artifact, self._provider_for)
                for name, entry in self._entries.items()
                if entry.registry_name is None
            }
        )
        names = {
            name: RoutedName(name=name, model_map=entry.model_map, cost_weight=entry.cost_weight)
            for name, entry in self._entries.items()
        }
        self.routed = RoutedModels(names, registry)

    @property
    def registry(self) -> RouterRegistry[RoutingModel]:
        """The loaded router of each routed name."""
        return self.routed.registry

    def _provider_for(self, deployment_id: str) -> tuple[ProviderClient, Deployment]:
        deployment = self._catalog.deployment(deployment_id)
        if deployment is None or deployment.adapter not in self._clients:
            raise ArtifactError(f"the router's embeddings deployment {deployment_id!r} is not configured")
        return self._clients[deployment.adapter], deployment

    @property
    def registry_names(self) -> dict[str, str]:
        """Routed name → registry name, for the names served from the router registry."""
        return {n: e.registry_name for n, e in self._entries.items() if e.registry_name is not None}

    def load_version(self, name: str, directory: Path) -> RoutingModel:
        """Load a fetched registry version for ``name``, refusing one whose models are not model groups.

        Raises:
            ArtifactError: The artifact is invalid, or a model it routes to maps to no model group.
        """
        model = load_artifact(str(directory), self._provider_for)
        entry = self._entries[name]
        models = read_metadata(directory).models
        missing = [m for m in models if self._catalog.get(entry.model_map.get(m, m)) is None]
        if missing:
            raise ArtifactError(
                f"the router's models {missing} map to no model group; add them to routing.routers model_map"
            )
        return model

    def reload(self, name: str) -> int:
        """Load the artifact of ``name`` again and swap it in; in-flight requests keep the old one."""
        entry = self._entries.get(name)
        if entry is not None and entry.registry_name is not None:
            raise InvalidRequestError(
                f"{name!r} serves the promoted version of {entry.registry_name!r}: use `routeiq routers "
                "promote` (workers pick it up within routing.registry.poll_interval_s)."
            )
        if entry is None:
            raise InvalidRequestError(
                f"No routed model {name!r}; configured: {', '.join(self._entries) or 'none'}."
            )
        try:
            model = load_artifact(entry.artifact, self._provider_for)
        except ArtifactError as exc:
            raise ConfigurationError([f"routing.routers.{name}: {exc}"]) from exc
        return self.registry.swap(name, model)
