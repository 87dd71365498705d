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


def test_ssrf_guard_exports() -> None:
    import routeiq_adapters.net
    import routeiq_core.net

    assert routeiq_core.net.__all__ == [
        "DNS_TIMEOUT_S",
        "AddressPolicy",
        "IPAddress",
        "IPNetwork",
        "Resolver",
        "is_valid_hostname",
        "parse_host_literal",
        "refusal_reason",
        "resolve_checked",
    ]
    assert routeiq_adapters.net.__all__ == [
        "GetaddrinfoResolver",
        "GuardedHttp",
        "GuardedResolver",
        "check_url",
        "guarded_session",
    ]
    for module in (routeiq_core.net, routeiq_adapters.net):
        for name in module.__all__:
            assert hasattr(module, name), name


def test_mcp_upstream_adapters_exports() -> None:
    import routeiq_adapters.mcp

    assert routeiq_adapters.mcp.__all__ == ["HttpMcpUpstream", "StdioMcpUpstream"]
    for name in routeiq_adapters.mcp.__all__:
        assert hasattr(routeiq_adapters.mcp, name), name


def test_mcp_gateway_exports() -> None:
    import routeiq_adapters.crypto
    import routeiq_app.surfaces.mcp
    import routeiq_core.mcp

    assert routeiq_adapters.crypto.__all__ == ["AesGcmSealer"]
    assert routeiq_app.surfaces.mcp.__all__ == ["MCP_PATH", "Dispatcher", "McpEndpoint"]
    assert {"McpService", "McpUpstream", "NameMap", "SessionBook", "ToolAccess", "exposed_name"} <= set(
        routeiq_core.mcp.__all__
    )
    for module in (routeiq_adapters.crypto, routeiq_app.surfaces.mcp, routeiq_core.mcp):
        for name in module.__all__:
            assert hasattr(module, name), name


def test_provider_objects_exports() -> None:
    import routeiq_adapters.provider_objects
    import routeiq_app.surfaces.openai
    import routeiq_core.provider_objects

    assert routeiq_adapters.provider_objects.__all__ == [
        "InMemoryObjectOwnershipStore",
        "PostgresObjectOwnershipStore",
        "SQLiteObjectOwnershipStore",
    ]
    assert {"ObjectOwnershipStore", "OwnedObject", "ProviderObjects", "may_access"} <= set(
        routeiq_core.provider_objects.__all__
    )
    assert "object_routes" in routeiq_app.surfaces.openai.__all__
    for module in (
        routeiq_adapters.provider_objects,
        routeiq_core.provider_objects,
        routeiq_app.surfaces.openai,
    ):
        for name in module.__all__:
            assert hasattr(module, name), name
