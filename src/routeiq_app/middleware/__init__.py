"""ASGI middleware applied around the whole app (order is set in ``routeiq_app.app``)."""

from routeiq_app.middleware.audit_source import AuditSourceMiddleware
from routeiq_app.middleware.backpressure import BackpressureMiddleware
from routeiq_app.middleware.cors import CorsMiddleware
from routeiq_app.middleware.drain import DrainMiddleware
from routeiq_app.middleware.request_id import RequestIdMiddleware

__all__ = [
    "AuditSourceMiddleware",
    "BackpressureMiddleware",
    "CorsMiddleware",
    "DrainMiddleware",
    "RequestIdMiddleware",
]
