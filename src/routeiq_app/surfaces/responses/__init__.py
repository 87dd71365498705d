"""The OpenAI Responses API surface, translated to chat: create (JSON and SSE) and stored responses."""

from routeiq_app.surfaces.responses.calls import RESPONSES_PATH, responses_routes
from routeiq_app.surfaces.responses.conversation import Conversations
from routeiq_app.surfaces.responses.spec import responses_descriptions
from routeiq_app.surfaces.responses.stored import stored_response_routes

__all__ = [
    "RESPONSES_PATH",
    "Conversations",
    "responses_descriptions",
    "responses_routes",
    "stored_response_routes",
]
