"""The OpenAPI description of the Anthropic surface's calls (served by the surface router).

As for the OpenAI calls (:mod:`routeiq_app.surfaces.openai.spec`): these Litestar handlers only
describe the operations in ``/schema/openapi.json``; the surface router answers every request to
these paths before Litestar sees it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from litestar import post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from routeiq_app.surfaces.anthropic.answers import AnthropicError, Message, TokensCount
from routeiq_app.surfaces.anthropic.calls import COUNT_TOKENS_PATH, MESSAGES_PATH
from routeiq_app.surfaces.anthropic.wire import CountTokensRequest, MessagesRequest
from routeiq_app.surfaces.openai.spec import NotServedHere

_ERRORS = MappingProxyType(
    {
        400: ResponseSpec(AnthropicError, description="invalid_request_error: the message names the field."),
        401: ResponseSpec(AnthropicError, description="authentication_error: missing or unknown API key."),
        403: ResponseSpec(AnthropicError, description="permission_error: the key may not call this model."),
        404: ResponseSpec(AnthropicError, description="not_found_error: no such model."),
        429: ResponseSpec(AnthropicError, description="rate_limit_error: a limit or budget is exhausted."),
        502: ResponseSpec(AnthropicError, description="api_error: every upstream attempt failed."),
        503: ResponseSpec(AnthropicError, description="overloaded_error: overloaded, draining, quota down."),
    }
)


def _description(
    path: str, summary: str, doc: str, request: type[Any], answer: type[Any]
) -> HTTPRouteHandler:
    """A Litestar handler that only describes ``POST path``: ``request`` in, ``answer`` out."""

    def describe(data: Any) -> Any:
        raise NotServedHere(f"{path} is served by the surface router, not by its OpenAPI description")

    describe.__annotations__ = {"data": JSONBody[request], "return": answer}  # type: ignore[valid-type,misc]
    describe.__doc__ = doc
    describe.__name__ = describe.__qualname__ = "anthropic_" + path.rsplit("/", 1)[-1]
    return post(
        path,
        summary=summary,
        tags=["anthropic"],
        responses=dict(_ERRORS),
        status_code=200,
        sync_to_thread=False,
    )(describe)


anthropic_descriptions: tuple[HTTPRouteHandler, ...] = (
    _description(
        MESSAGES_PATH,
        "Create a message (JSON, or Anthropic's SSE events with stream: true)",
        "Anthropic's Messages API, translated to chat for any model group; send the key as x-api-key.",
        MessagesRequest,
        Message,
    ),
    _description(
        COUNT_TOKENS_PATH,
        "Count a message's input tokens (the gateway's estimate; no upstream call)",
        "The prompt estimate RouteIQ reserves quota by, for the request as it would be sent.",
        CountTokensRequest,
        TokensCount,
    ),
)
