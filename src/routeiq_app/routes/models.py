"""``GET /v1/models``: the model groups a caller may use."""

from __future__ import annotations

import time

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from routeiq_app.auth import MasterKeyAuth
from routeiq_app.wire import ModelCard, ModelList
from routeiq_core.catalog import ModelCatalog


@get(["/v1/models", "/models"], summary="List model groups", tags=["openai"], sync_to_thread=False)
def list_models(
    request: Request,  # type: ignore[type-arg]
    catalog: NamedDependency[ModelCatalog],
    auth: NamedDependency[MasterKeyAuth],
) -> ModelList:
    """Every model group (aliases included) as OpenAI model objects."""
    auth.check(request.scope)  # type: ignore[arg-type]
    created = int(time.time())
    names = [name for group in catalog.groups for name in (group.name, *group.aliases)]
    return ModelList(data=[ModelCard(id=name, created=created) for name in names])


@get(
    ["/v1/models/{model:str}", "/models/{model:str}"],
    summary="One model group",
    tags=["openai"],
    sync_to_thread=False,
)
def get_model(
    request: Request,  # type: ignore[type-arg]
    model: FromPath[str],
    catalog: NamedDependency[ModelCatalog],
    auth: NamedDependency[MasterKeyAuth],
) -> ModelCard:
    """One model group (or alias), or 404."""
    auth.check(request.scope)  # type: ignore[arg-type]
    catalog.resolve(model)  # a 404 listing the available groups when unknown
    return ModelCard(id=model, created=int(time.time()))
