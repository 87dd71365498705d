"""The files and batches handlers of the OpenAI surface, together (see :mod:`files` and :mod:`batches`)."""

from __future__ import annotations

from routeiq_app.asgi_types import ASGIApp
from routeiq_app.surfaces.http import HttpRequestReader
from routeiq_app.surfaces.openai.batches import batch_routes
from routeiq_app.surfaces.openai.files import file_routes
from routeiq_core.provider_objects import ProviderObjects


def object_routes(
    objects: ProviderObjects, reader: HttpRequestReader, *, max_upload_bytes: int, max_body_bytes: int
) -> tuple[dict[str, ASGIApp], dict[str, ASGIApp]]:
    """Files and batches handlers bound to this app's use case: by exact path, and by path prefix."""
    files, file_items = file_routes(objects, reader, max_upload_bytes)
    batches, batch_items = batch_routes(objects, reader, max_body_bytes)
    return {**files, **batches}, {**file_items, **batch_items}
