"""Each package exports a deliberate public surface."""

import routeiq_adapters
import routeiq_app
import routeiq_core


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
