"""The OpenAPI description of the OpenAI surface's calls.

The calls are served by raw ASGI handlers that :class:`~routeiq_app.surfaces.router.SurfaceRouter`
dispatches ahead of Litestar (every method of these paths goes there), so Litestar never routes a
request to the handlers below: they exist to describe each operation — its request body, its
answer, its errors — in ``/schema/openapi.json``, in the schema Litestar generates for every other
route. A test checks both halves: the document lists them, and a call never reaches them.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from litestar import post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from routeiq_app.errors import ErrorBody
from routeiq_app.surfaces.openai.wire import (
    ChatCompletion,
    ChatCompletionRequest,
    Completion,
    CompletionRequest,
    EmbeddingList,
    EmbeddingRequest,
)
from routeiq_app.surfaces.openai.wire_tasks import (
    ImageGenerationRequest,
    ImagesResponse,
    Moderation,
    ModerationRequest,
    RerankRequest,
    RerankResponse,
)

_ERRORS = MappingProxyType(
    {
        400: ResponseSpec(
            ErrorBody, description="The body is not a valid request (the message names the field)."
        ),
        401: ResponseSpec(ErrorBody, description="Missing or unknown API key."),
        403: ResponseSpec(
            ErrorBody, description="The key may not call, or not this model; or a policy denied."
        ),
        404: ResponseSpec(ErrorBody, description="No such model."),
        429: ResponseSpec(ErrorBody, description="A rate limit or budget is exhausted (see Retry-After)."),
        502: ResponseSpec(ErrorBody, description="Every upstream attempt failed."),
        503: ResponseSpec(ErrorBody, description="Overloaded, draining, or the quota backend is down."),
    }
)


class NotServedHere(RuntimeError):
    """Raised if Litestar ever routed a call to its description (the surface router serves it)."""


def _description(
    paths: tuple[str, str], summary: str, doc: str, request: type[Any], answer: type[Any]
) -> HTTPRouteHandler:
    """A Litestar handler that only describes ``POST paths``: ``request`` in, ``answer`` out."""

    def describe(data: Any) -> Any:
        raise NotServedHere(f"{paths[0]} is served by the surface router, not by its OpenAPI description")

    describe.__annotations__ = {"data": JSONBody[request], "return": answer}  # type: ignore[valid-type,misc]
    describe.__doc__ = doc
    describe.__name__ = describe.__qualname__ = paths[1].strip("/").replace("/", "_")
    return post(
        list(paths),
        summary=summary,
        tags=["openai"],
        responses=dict(_ERRORS),
        status_code=200,
        sync_to_thread=False,
    )(describe)


call_descriptions: tuple[HTTPRouteHandler, ...] = (
    _description(
        ("/v1/chat/completions", "/chat/completions"),
        "Create a chat completion (JSON, or SSE with stream: true)",
        "OpenAI's chat completions; fields not listed here pass through to the upstream untouched.",
        ChatCompletionRequest,
        ChatCompletion,
    ),
    _description(
        ("/v1/completions", "/completions"),
        "Create a text completion (JSON, or SSE with stream: true)",
        "OpenAI's (legacy) completions; other fields pass through to the upstream.",
        CompletionRequest,
        Completion,
    ),
    _description(
        ("/v1/embeddings", "/embeddings"),
        "Create embeddings",
        "OpenAI's embeddings; other fields (dimensions, user, ...) pass through to the upstream.",
        EmbeddingRequest,
        EmbeddingList,
    ),
    _description(
        ("/v1/moderations", "/moderations"),
        "Classify text (and images) for harmful content",
        "OpenAI's moderations; a 400 `unsupported_operation` when the model's deployments do not serve them.",
        ModerationRequest,
        Moderation,
    ),
    _description(
        ("/v1/images/generations", "/images/generations"),
        "Generate images from a prompt",
        "OpenAI's image generation (not streamed); other fields (quality, style, ...) pass through.",
        ImageGenerationRequest,
        ImagesResponse,
    ),
    _description(
        ("/v1/rerank", "/rerank"),
        "Rank documents by relevance to a query (also at /v2/rerank)",
        "Cohere's and Jina's rerank, as LiteLLM exposes it; other fields pass through.",
        RerankRequest,
        RerankResponse,
    ),
)
