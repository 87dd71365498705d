"""Typed settings: the model, the loader and the reference-doc generator."""

from routeiq_app.settings.loader import load_settings
from routeiq_app.settings.model import (
    ObservabilitySettings,
    SecuritySettings,
    ServerSettings,
    Settings,
)

__all__ = [
    "ObservabilitySettings",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "load_settings",
]
