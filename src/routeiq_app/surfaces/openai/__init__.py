"""The OpenAI API surface: chat, completions, embeddings, images, audio, rerank, models, files, batches."""

from routeiq_app.surfaces.openai.calls import openai_routes
from routeiq_app.surfaces.openai.models import get_model, list_models
from routeiq_app.surfaces.openai.objects import object_routes
from routeiq_app.surfaces.openai.spec import call_descriptions as json_call_descriptions
from routeiq_app.surfaces.openai.spec_forms import form_descriptions
from routeiq_app.surfaces.openai.spec_objects import object_descriptions

call_descriptions = (*json_call_descriptions, *form_descriptions, *object_descriptions)
"""Every OpenAI route the surface router serves, described for the OpenAPI document."""

__all__ = ["call_descriptions", "get_model", "list_models", "object_routes", "openai_routes"]
