"""Adapters of the feedback store port: in memory, SQLite (the default) and PostgreSQL."""

from routeiq_adapters.feedback.memory import InMemoryFeedbackStore
from routeiq_adapters.feedback.postgres import PostgresFeedbackStore
from routeiq_adapters.feedback.sqlite import SQLiteFeedbackStore

__all__ = ["InMemoryFeedbackStore", "PostgresFeedbackStore", "SQLiteFeedbackStore"]
