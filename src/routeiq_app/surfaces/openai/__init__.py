"""The OpenAI API surface: chat, completions, embeddings, moderations, images, rerank, audio, models."""

from routeiq_app.surfaces.openai.calls import openai_routes
from routeiq_app.surfaces.openai.models import get_model, list_models
from routeiq_app.surfaces.openai.spec import call_descriptions

__all__ = ["call_descriptions", "get_model", "list_models", "openai_routes"]
