"""Each package exports a deliberate public surface."""

import routeiq_adapters
import routeiq_adapters.audit
import routeiq_app
import routeiq_core
import routeiq_core.audit
import routeiq_core.providers
from routeiq_app.surfaces import anthropic as anthropic_surface
from routeiq_app.surfaces import responses as responses_surface


def test_core_exports() -> None:
    assert set(routeiq_core.__all__) >= {
        "__version__",
        "RouteIQError",
        "ConfigurationError",
        "Readiness",
        "Lifecycle",
        "HealthCheck",
    }
    for name in routeiq_core.__all__:
        assert hasattr(routeiq_core, name), name


def test_app_exports() -> None:
    assert routeiq_app.__all__ == ["Container", "create_app"]


def test_adapters_exports_resolve() -> None:
    for name in routeiq_adapters.__all__:
        assert hasattr(routeiq_adapters, name), name


def test_audit_exports_resolve() -> None:
    assert set(routeiq_core.audit.__all__) >= {"AuditEvent", "AuditStore", "AuditTrail", "verify_log"}
    assert set(routeiq_adapters.audit.__all__) == {
        "Ed25519CheckpointSigner",
        "Ed25519NoteVerifier",
        "FileCheckpointSink",
        "InMemoryAuditStore",
        "PostgresAuditStore",
        "SQLiteAuditStore",
    }
    for module in (routeiq_core.audit, routeiq_adapters.audit):
        for name in module.__all__:
            assert hasattr(module, name), name


def test_anthropic_surface_exports() -> None:
    assert anthropic_surface.__all__ == [
        "COUNT_TOKENS_PATH",
        "MESSAGES_PATH",
        "anthropic_descriptions",
        "anthropic_routes",
    ]
    for name in anthropic_surface.__all__:
        assert hasattr(anthropic_surface, name), name


def test_responses_surface_exports() -> None:
    assert responses_surface.__all__ == [
        "RESPONSES_PATH",
        "Conversations",
        "responses_descriptions",
        "responses_routes",
        "stored_response_routes",
    ]
    for name in responses_surface.__all__:
        assert hasattr(responses_surface, name), name


def test_responses_adapters_exports() -> None:
    import routeiq_adapters.responses

    assert routeiq_adapters.responses.__all__ == [
        "InMemoryResponseStore",
        "PostgresResponseStore",
        "SQLiteResponseStore",
    ]


def test_provider_port_exports() -> None:
    assert set(routeiq_core.providers.__all__) == {
        "Operation",
        "ProviderClient",
        "ProviderReply",
        "UploadedFile",
        "Usage",
        "WarmsUp",
    }
    for name in routeiq_core.providers.__all__:
        assert hasattr(routeiq_core.providers, name), name
