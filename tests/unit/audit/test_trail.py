"""The audit trail: what the services record, bounded summaries, checkpoints, never failing callers."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import pytest

from routeiq_adapters.audit import Ed25519CheckpointSigner, InMemoryAuditStore
from routeiq_adapters.teams import SQLiteTeamStore
from routeiq_core.access import KeyHasher, KeyPatch, KeyService, NewKey, NewTeam, Principal, TeamService
from routeiq_core.audit import (
    AuditEvent,
    AuditQuery,
    AuditTrail,
    ChainHead,
    Checkpointer,
    Tally,
    acting_from,
    verify_log,
)
from routeiq_core.errors import PermissionDeniedError
from tests.support.clocks import ManualClock
from tests.support.stores import DictKeyStore

pytestmark = pytest.mark.anyio
ORIGIN = "example.com/audit"
NOW = 1_700_000_000.0


class BrokenStore(InMemoryAuditStore):
    async def append(self, events: Sequence[AuditEvent]) -> ChainHead:
        raise OSError("disk on fire")


def trail(
    store: InMemoryAuditStore,
    clock: ManualClock,
    signer: Ed25519CheckpointSigner | None = None,
    **options: float,
) -> AuditTrail:
    signer = signer or Ed25519CheckpointSigner.generate(ORIGIN)
    every = int(options.pop("every", 256))
    checkpoints = Checkpointer(
        store, signer, origin=ORIGIN, every_entries=every, interval_s=60.0, clock=clock
    )
    return AuditTrail(store, checkpoints, clock=clock, **options)  # type: ignore[arg-type]


async def events(store: InMemoryAuditStore) -> list[AuditEvent]:
    return [e.event() for e in await store.entries(0, 1000)]


async def test_key_and_team_changes_are_recorded_without_secrets() -> None:
    store, clock = InMemoryAuditStore(), ManualClock(NOW)
    audit = trail(store, clock)
    keys = KeyService(DictKeyStore(), KeyHasher("s" * 32), clock=clock, audit=audit)
    team_store = SQLiteTeamStore(":memory:")
    teams = TeamService(team_store, clock=clock, audit=audit)
    admin = Principal.admin()
    with acting_from("203.0.113.7"):
        await teams.create(admin, NewTeam(team_id="alpha", metadata={"secret-ish": "x"}))
        issued = await keys.issue(admin, NewKey(team="alpha", role="team_admin"))
        team_admin = issued.record.principal()
        member = await keys.issue(team_admin, NewKey(alias="bot"))
        await keys.update(team_admin, member.record.key_id, KeyPatch(alias="robot", metadata={"k": "v"}))
        rotated = await keys.rotate(team_admin, member.record.key_id)
        await keys.revoke(admin, member.record.key_id)
        await teams.delete(admin, "alpha")
    await team_store.close()
    found = await events(store)
    assert [e.action for e in found] == [
        "team.create",
        "key.issue",
        "key.issue",
        "key.patch",
        "key.rotate",
        "key.revoke",
        "team.delete",
    ]
    assert {e.source_ip for e in found} == {"203.0.113.7"}
    assert [e.actor for e in found] == ["master", "master", issued.record.key_id, issued.record.key_id,
                                         issued.record.key_id, "master", "master"]  # fmt: skip
    assert found[2].details["team"] == "alpha"
    assert found[2].role == "team_admin"
    assert found[3].details == {"fields": ["alias", "metadata"], "alias": "robot", "metadata_keys": ["k"],
                                "team": "alpha"}  # fmt: skip
    everything = b"".join(e.body for e in await store.entries(0, 1000))
    for secret in (issued.key, member.key, rotated.key, issued.record.key_hash, rotated.record.key_hash):
        assert secret.encode() not in everything
    assert rotated.record.hint.encode() not in everything


async def test_denials_are_counted_into_one_summary_per_window() -> None:
    store, clock = InMemoryAuditStore(), ManualClock(NOW)
    audit = trail(store, clock)
    keys = KeyService(DictKeyStore(), KeyHasher("s" * 32), clock=clock, audit=audit)
    member = Principal(kind="virtual_key", role="member", key_id="key_m", team="t")
    for _ in range(3):
        with pytest.raises(PermissionDeniedError):
            await keys.issue(member, NewKey())
    with pytest.raises(PermissionDeniedError):
        await audit.read(member, AuditQuery())
    assert await events(store) == []
    await audit.flush()
    (summary,) = await events(store)
    assert summary.action == "access.denied"
    assert summary.outcome == "denied"
    assert summary.details["groups"] == [
        {"actor": "key_m", "action": "audit.read", "count": 1},
        {"actor": "key_m", "action": "key.issue", "count": 3},
    ]
    await audit.flush()
    assert len(await events(store)) == 1  # nothing counted since: no entry


async def test_a_key_spray_grows_neither_memory_nor_the_log_without_bound() -> None:
    store, clock = InMemoryAuditStore(), ManualClock(NOW)
    audit = trail(store, clock, max_groups=8)
    for i in range(10_000):
        audit.auth_failed(f"198.51.{i // 256}.{i % 256}", "invalid_api_key")
        audit.auth_failed("192.0.2.1", "key_revoked")
    assert len(audit.auth_failures) == 8
    await audit.flush()
    (summary,) = await events(store)
    assert summary.action == "auth.failure"
    assert summary.details["total"] == 20_000
    assert len(summary.details["groups"]) == 8
    assert summary.details["overflow"] == 20_000 - sum(g["count"] for g in summary.details["groups"])
    assert len(audit.auth_failures) == 0


def test_a_tally_cuts_long_values_and_checks_its_groups() -> None:
    tally = Tally("quota.refusal", ("reason", "model_group"), max_groups=2)
    tally.add(("rate_limit_exceeded", "x" * 1000), at=1.0)
    tally.add(("budget_exceeded", None), at=2.0)
    summary = tally.drain(at=3.0)
    assert summary is not None
    assert summary.details["window_start"] == 1.0
    assert summary.details["groups"][0] == {"reason": "budget_exceeded", "model_group": "-", "count": 1}
    assert len(summary.details["groups"][1]["model_group"]) == 128
    with pytest.raises(ValueError, match="expected 2 values"):
        tally.add(("one",), at=4.0)


async def test_a_failing_store_never_fails_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(NOW)
    audit = trail(BrokenStore(), clock)
    keys = KeyService(DictKeyStore(), KeyHasher("s" * 32), clock=clock, audit=audit)
    issued = await keys.issue(Principal.admin(), NewKey())
    assert issued.record.key_id
    assert audit.failures == 1
    assert "could not record key.issue" in caplog.text
    assert await audit.checkpoint() is not None  # the head still signs (nothing was appended)


async def test_checkpoints_every_n_entries_and_on_ticks_and_all_verify() -> None:
    store, clock = InMemoryAuditStore(), ManualClock(NOW)
    signer = Ed25519CheckpointSigner.generate(ORIGIN)
    audit = trail(store, clock, signer, every=4)
    for i in range(10):
        await audit.record(AuditEvent(at=clock(), action="team.create", target=f"t{i}"))
    assert [c.size for c in await store.checkpoints()] == [4, 8]
    assert (await audit.checkpoint()) is not None  # size 10
    clock.advance(10)
    assert await audit.checkpoint() is None  # just checkpointed at this size (another worker, say)
    clock.advance(60)
    assert (await audit.checkpoint()) is not None  # idle, but due: written anyway
    result = await verify_log(store, [signer.verifier])
    assert (result.ok, result.size, result.checkpoints) == (True, 10, 3)  # the idle repeat counted once


async def test_a_trail_that_is_off_does_nothing() -> None:
    audit = AuditTrail.off()
    await audit.record(AuditEvent(at=NOW, action="x"))
    audit.auth_failed("1.2.3.4", None)
    await audit.flush()
    assert not audit.enabled
    assert await audit.checkpoint() is None
    with pytest.raises(Exception, match="audit log is off"):
        await audit.read(Principal.admin(), AuditQuery())


def test_events_are_plain_values() -> None:
    event = AuditEvent(at=NOW, action="key.issue", details={"a": [1, 2]})
    assert msgspec.json.decode(msgspec.json.encode(event), type=AuditEvent) == event
