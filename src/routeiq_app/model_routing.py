"""Routed model names (`model: "auto"`): a trained router picks the model group for each request."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from routeiq_adapters.embeddings import embedder_loaders
from routeiq_adapters.vector import FaissVectorIndex, faiss_index_factory
from routeiq_app.settings import Settings
from routeiq_app.settings.routing import ModelRouterSettings
from routeiq_core.catalog import Deployment, ModelCatalog
from routeiq_core.errors import ConfigurationError, InvalidRequestError
from routeiq_core.guardrails.chat_text import request_texts
from routeiq_core.providers import ProviderClient
from routeiq_core.routing.learned import (
    ArtifactError,
    RouterRegistry,
    RoutingModel,
    load_router,
    read_metadata,
)
from routeiq_core.routing.learned.provider_embedder import ProviderEmbedder, provider_embedder_loader

COST_WEIGHT_HEADER = b"x-routeiq-cost-weight"
BODY_EXTENSION = "routeiq"


class Routed(msgspec.Struct, frozen=True, kw_only=True):
    """The choice of a routed model name, with the headers that explain it."""

    model_group: str
    headers: tuple[tuple[bytes, bytes], ...]


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
    """The routed names of this process, their loaded routers, and per-request choice.

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
        self.registry: RouterRegistry[RoutingModel] = RouterRegistry(
            {name: load_artifact(entry.artifact, self._provider_for) for name, entry in self._entries.items()}
        )

    def _provider_for(self, deployment_id: str) -> tuple[ProviderClient, Deployment]:
        deployment = self._catalog.deployment(deployment_id)
        if deployment is None or deployment.adapter not in self._clients:
            raise ArtifactError(f"the router's embeddings deployment {deployment_id!r} is not configured")
        return self._clients[deployment.adapter], deployment

    def is_routed(self, model: object) -> bool:
        """Whether ``model`` is a routed name."""
        return isinstance(model, str) and model in self._entries

    def reload(self, name: str) -> int:
        """Load the artifact of ``name`` again and swap it in; in-flight requests keep the old one."""
        entry = self._entries.get(name)
        if entry is None:
            raise InvalidRequestError(
                f"No routed model {name!r}; configured: {', '.join(self._entries) or 'none'}."
            )
        try:
            model = load_artifact(entry.artifact, self._provider_for)
        except ArtifactError as exc:
            raise ConfigurationError([f"routing.routers.{name}: {exc}"]) from exc
        return self.registry.swap(name, model)

    async def choose(self, scope: Mapping[str, Any], payload: dict[str, Any]) -> Routed:
        """Pick the model group for a request to a routed name (inference off the event loop)."""
        name = str(payload["model"])
        entry = self._entries[name]
        weight = _cost_weight(scope, payload, entry.cost_weight)
        model = self.registry.get(name)
        prompt = "\n".join(request_texts(payload, roles=("user",))) or "\n".join(request_texts(payload))
        decision = (await model.aroute([prompt], cost_weight=weight))[0]
        group = entry.model_map.get(decision.model, decision.model)
        best = max(decision.predicted_quality)
        reason = (
            f"predicted quality {decision.predicted_quality[decision.index]:.3f} (best {best:.3f}), "
            f"estimated cost {decision.estimated_cost[decision.index]:.6f}, cost weight {weight:g}"
        )
        headers = (
            (b"x-routeiq-router", name.encode()),
            (b"x-routeiq-router-choice", group.encode()),
            (b"x-routeiq-router-reason", reason.encode()),
        )
        return Routed(model_group=group, headers=headers)


def _cost_weight(scope: Mapping[str, Any], payload: dict[str, Any], default: float) -> float:
    raw: Any = None
    extension = payload.pop(BODY_EXTENSION, None)
    if isinstance(extension, dict):
        raw = extension.get("cost_weight")
    for key, value in scope.get("headers", ()):
        if key == COST_WEIGHT_HEADER:
            raw = value.decode("latin-1")
    if raw is None:
        return default
    try:
        weight = float(raw)
    except (TypeError, ValueError):
        weight = math.nan
    if not math.isfinite(weight) or weight < 0:
        raise InvalidRequestError(
            f"cost_weight must be a number >= 0, got {raw!r}", param="x-routeiq-cost-weight"
        )
    return weight
