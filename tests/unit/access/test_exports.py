"""The access package and its adapters export a deliberate surface."""

import routeiq_adapters.keys
import routeiq_adapters.quota
import routeiq_adapters.spend
import routeiq_adapters.teams
import routeiq_core.access


def test_access_exports_resolve() -> None:
    for module in (
        routeiq_core.access,
        routeiq_adapters.quota,
        routeiq_adapters.keys,
        routeiq_adapters.spend,
        routeiq_adapters.teams,
    ):
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)


def test_access_exports_the_ports_and_services() -> None:
    assert set(routeiq_core.access.__all__) >= {
        "Authenticator",
        "CachedKeyStore",
        "KeyStore",
        "KeyService",
        "PolicyEngine",
        "Principal",
        "QuotaService",
        "QuotaStore",
        "SpendLedger",
        "BudgetExceededError",
        "TeamService",
        "TeamStore",
    }
    assert routeiq_adapters.quota.__all__ == ["InMemoryQuotaStore", "RedisQuotaStore"]
    assert routeiq_adapters.keys.__all__ == ["PostgresKeyStore", "SQLiteKeyStore"]
    assert routeiq_adapters.spend.__all__ == [
        "InMemorySpendLedger",
        "PostgresSpendLedger",
        "SQLiteSpendLedger",
    ]
    assert routeiq_adapters.teams.__all__ == ["PostgresTeamStore", "SQLiteTeamStore"]
