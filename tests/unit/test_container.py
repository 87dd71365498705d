"""The container builds objects; tests override providers and reset singletons."""

from __future__ import annotations

from dependency_injector import providers

from routeiq_app import Container
from routeiq_app.settings import ServerSettings, Settings
from routeiq_core.resilience import ConcurrencyLimiter


def test_settings_are_read_lazily_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ROUTEIQ_SERVER__MAX_CONCURRENT_REQUESTS", "7")
    container = Container()  # building the container reads nothing
    assert container.limiter().limit == 7


def test_override_providers_replaces_a_dependency() -> None:
    container = Container()
    custom = Settings(server=ServerSettings(max_concurrent_requests=3))
    with container.override_providers(settings=providers.Object(custom)):
        assert container.limiter().limit == 3
        spy = ConcurrencyLimiter(99)
        with container.override_providers(limiter=providers.Object(spy)):
            assert container.limiter() is spy
        assert container.limiter() is not spy


def test_reset_singletons_builds_fresh_objects() -> None:
    container = Container()
    container.settings.override(providers.Object(Settings()))
    first = container.limiter()
    assert container.limiter() is first
    container.reset_singletons()
    assert container.limiter() is not first


def test_two_containers_share_nothing() -> None:
    a, b = Container(), Container()
    for c in (a, b):
        c.settings.override(providers.Object(Settings()))
    assert a.lifecycle() is not b.lifecycle()
    assert a.readiness() is not b.readiness()
