"""The OpenAPI description of ``POST /v1/responses`` (served by the surface router).

As for the OpenAI calls (:mod:`routeiq_app.surfaces.openai.spec`): this Litestar handler only
describes the operation in ``/schema/openapi.json``; the surface router answers every request to
the path before Litestar sees it. The stored responses' routes are ordinary Litestar handlers.
"""

from __future__ import annotations

from litestar import post
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody

from routeiq_app.surfaces.openai.spec import NotServedHere
from routeiq_app.surfaces.responses.answers import Response
from routeiq_app.surfaces.responses.calls import RESPONSES_PATH
from routeiq_app.surfaces.responses.wire import ResponsesRequest


@post(
    RESPONSES_PATH,
    summary="Create a response (JSON, or typed SSE events with stream: true)",
    tags=["responses"],
    status_code=200,
    sync_to_thread=False,
)
def create_response(data: JSONBody[ResponsesRequest]) -> Response:
    """OpenAI's Responses API, translated to chat completions for any model group."""
    raise NotServedHere(f"{RESPONSES_PATH} is served by the surface router, not by its OpenAPI description")


responses_descriptions: tuple[HTTPRouteHandler, ...] = (create_response,)
