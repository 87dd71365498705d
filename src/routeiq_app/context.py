"""Per-request context that log records pick up without threading it through every call."""

from contextvars import ContextVar

# A ContextVar is per task, not shared mutable state: each request sees only its own id.
request_id_var: ContextVar[str | None] = ContextVar("routeiq_request_id", default=None)
