"""``GET /v1/models``: the model groups the caller may use."""

from __future__ import annotations

import time

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath

from routeiq_app.surfaces.openai.wire import ModelCard, ModelList
from routeiq_core.access import Principal, require, require_model
from routeiq_core.catalog import ModelCatalog


@get(["/v1/models", "/models"], summary="List model groups", tags=["openai"], sync_to_thread=False)
def list_models(catalog: NamedDependency[ModelCatalog], principal: NamedDependency[Principal]) -> ModelList:
    """The model groups (aliases included) this caller's key may use, as OpenAI model objects."""
    require(principal, "models.read")
    created = int(time.time())
    names = [
        name
        for group in catalog.groups
        if principal.allows_model(group.name)
        for name in (group.name, *group.aliases)
    ]
    return ModelList(data=[ModelCard(id=name, created=created) for name in names])


@get(
    ["/v1/models/{model:str}", "/models/{model:str}"],
    summary="One model group",
    tags=["openai"],
    sync_to_thread=False,
)
def get_model(
    model: FromPath[str], catalog: NamedDependency[ModelCatalog], principal: NamedDependency[Principal]
) -> ModelCard:
    """One model group (or alias): 404 when unknown, 403 when the key may not use it."""
    require(principal, "models.read")
    require_model(principal, catalog.resolve(model).name)
    return ModelCard(id=model, created=int(time.time()))
