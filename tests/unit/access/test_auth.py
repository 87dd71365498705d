"""Authentication: master key, virtual keys, refusals, spoofing, secrets kept out of logs."""

from __future__ import annotations

import hmac
import logging

import anyio
import pytest

from routeiq_core.access import (
    Authenticator,
    IssuedKey,
    KeyHasher,
    KeyService,
    KeyStoreError,
    NewKey,
    Principal,
)
from routeiq_core.errors import AuthenticationError
from tests.support.clocks import ManualClock
from tests.support.stores import DictKeyStore

pytestmark = pytest.mark.anyio

MASTER = "sk-master-0123456789abcdef"
SECRET = "server-secret-0123456789"
NOW = 1_700_000_000.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def store() -> DictKeyStore:
    return DictKeyStore()


@pytest.fixture
def hasher() -> KeyHasher:
    return KeyHasher(SECRET)


@pytest.fixture
def auth(store: DictKeyStore, hasher: KeyHasher, clock: ManualClock) -> Authenticator:
    return Authenticator(store=store, hasher=hasher, master_key=MASTER, clock=clock)


@pytest.fixture
def keys(store: DictKeyStore, hasher: KeyHasher, clock: ManualClock) -> KeyService:
    return KeyService(store, hasher, clock=clock)


async def issue(keys: KeyService, **spec: object) -> IssuedKey:
    return await keys.issue(Principal.admin(), NewKey(**spec))  # type: ignore[arg-type]


async def test_master_key_is_admin(auth: Authenticator) -> None:
    principal = await auth.authenticate(MASTER)
    assert principal.kind == "admin"
    assert principal.role == "admin"


async def test_master_key_comparison_is_constant_time(
    auth: Authenticator, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    await auth.authenticate(MASTER)
    with pytest.raises(AuthenticationError):
        await auth.authenticate(MASTER + "x")
    assert len(calls) >= 2
    # digests of equal length are compared, so the length of the master key does not leak either
    assert all(len(a) == len(b) == 32 for a, b in calls)


async def test_virtual_key_resolves_to_its_principal(auth: Authenticator, keys: KeyService) -> None:
    issued = await issue(keys, team="t1", user="u1", role="member", allowed_models=("demo",))
    principal = await auth.authenticate(issued.key)
    assert principal.kind == "virtual_key"
    assert (principal.key_id, principal.team, principal.user, principal.role) == (
        issued.record.key_id,
        "t1",
        "u1",
        "member",
    )
    assert principal.allowed_models == ("demo",)


async def test_virtual_key_hash_check_is_constant_time(
    auth: Authenticator, keys: KeyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = await issue(keys)
    seen: list[bytes] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append(a)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    await auth.authenticate(issued.key)
    assert issued.record.key_hash.encode() in seen


@pytest.mark.parametrize(
    ("token", "looked_up"),
    [
        ("sk-riq-" + "A" * 43, True),  # well-formed but unknown
        ("sk-wrong-key", False),  # not a RouteIQ key: refused without a lookup
        ("sk-riq-" + "A" * 500, False),  # absurdly long
        (MASTER[:-1], False),
    ],
)
async def test_wrong_keys_are_401(
    auth: Authenticator, store: DictKeyStore, token: str, looked_up: bool
) -> None:
    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate(token)
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"
    assert token not in info.value.message
    assert (store.lookups > 0) is looked_up


async def test_missing_key_is_401_unless_open(store: DictKeyStore, hasher: KeyHasher) -> None:
    closed = Authenticator(store=store, hasher=hasher, master_key=MASTER)
    for token in (None, ""):
        with pytest.raises(AuthenticationError) as info:
            await closed.authenticate(token)
        assert info.value.code == "missing_api_key"
    opened = Authenticator(store=store, hasher=hasher, anonymous=Principal.anonymous())
    assert opened.open
    assert (await opened.authenticate(None)).kind == "anonymous"
    with pytest.raises(AuthenticationError):  # a wrong key is refused even when the gateway is open
        await opened.authenticate("sk-riq-nope")


async def test_expired_key_is_401(auth: Authenticator, keys: KeyService, clock: ManualClock) -> None:
    issued = await issue(keys, expires_at=NOW + 60)
    assert (await auth.authenticate(issued.key)).key_id == issued.record.key_id
    clock.now = NOW + 60
    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate(issued.key)
    assert info.value.code == "key_expired"
    assert issued.key not in info.value.message


async def test_revoked_key_is_401(auth: Authenticator, keys: KeyService) -> None:
    issued = await issue(keys)
    await keys.revoke(Principal.admin(), issued.record.key_id)
    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate(issued.key)
    assert info.value.code == "key_revoked"


async def test_rotated_key_invalidates_the_old_secret(auth: Authenticator, keys: KeyService) -> None:
    issued = await issue(keys)
    rotated = await keys.rotate(Principal.admin(), issued.record.key_id)
    assert rotated.key != issued.key
    assert (await auth.authenticate(rotated.key)).key_id == issued.record.key_id
    with pytest.raises(AuthenticationError):
        await auth.authenticate(issued.key)


async def test_an_open_gateway_takes_foreign_keys_as_anonymous(
    store: DictKeyStore, hasher: KeyHasher
) -> None:
    open_auth = Authenticator(store=store, hasher=hasher, anonymous=Principal.anonymous())
    assert (await open_auth.identify(None)).kind == "anonymous"
    assert (await open_auth.identify("sk-openai-style-key")).kind == "anonymous"
    with pytest.raises(AuthenticationError):  # a RouteIQ key is still checked
        await open_auth.identify("sk-riq-" + "E" * 43)


async def test_store_failure_is_503_not_admission(auth: Authenticator, store: DictKeyStore) -> None:
    store.fail_with = OSError("connection refused")
    with pytest.raises(KeyStoreError) as info:
        await auth.authenticate("sk-riq-" + "B" * 43)
    assert info.value.status_code == 503


async def test_slow_store_times_out_with_503(store: DictKeyStore, hasher: KeyHasher) -> None:
    class Slow(DictKeyStore):
        async def get_by_hash(self, key_hash: str) -> None:
            await anyio.sleep(5)

    auth = Authenticator(store=Slow(), hasher=hasher, timeout_s=0.05)
    with pytest.raises(KeyStoreError):
        await auth.authenticate("sk-riq-" + "C" * 43)


async def test_secrets_never_reach_reprs_or_logs(
    auth: Authenticator, keys: KeyService, hasher: KeyHasher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = await issue(keys, team="t1")
    await keys.revoke(Principal.admin(), issued.record.key_id)
    unknown = "sk-riq-" + "D" * 43
    for token in (issued.key, unknown, "garbage-token", MASTER + "x"):
        with pytest.raises(AuthenticationError):
            await auth.authenticate(token)
    texts = [repr(issued), str(issued), repr(issued.record), repr(auth), repr(hasher)]
    texts += [r.getMessage() + repr(r.__dict__) for r in caplog.records]
    for secret in (issued.key, unknown, "garbage-token", MASTER, SECRET, issued.record.key_hash):
        assert all(secret not in text for text in texts), secret
    assert any(issued.record.key_id in r.getMessage() for r in caplog.records)  # the id is logged instead


def test_hasher_needs_a_real_secret() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        KeyHasher("short")
    assert KeyHasher(SECRET).hash("k") != KeyHasher(SECRET + "x").hash("k")
    assert KeyHasher(SECRET).matches("k", KeyHasher(SECRET).hash("k"))
