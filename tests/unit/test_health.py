"""Readiness folds component checks and the lifecycle phase."""

from __future__ import annotations

import anyio
import pytest

from routeiq_core.health import ComponentHealth, Lifecycle, Readiness


class StaticCheck:
    def __init__(self, name: str, result: ComponentHealth | Exception, delay: float = 0.0) -> None:
        self.name = name
        self._result = result
        self._delay = delay

    async def check(self) -> ComponentHealth:
        await anyio.sleep(self._delay)
        if isinstance(self._result, Exception):
            raise self._result
        return self._result


@pytest.fixture
def lifecycle() -> Lifecycle:
    lc = Lifecycle()
    lc.mark_ready()
    return lc


def run(readiness: Readiness):  # type: ignore[no-untyped-def]
    return anyio.run(readiness.report)


def test_not_ready_while_starting_or_draining() -> None:
    lc = Lifecycle()
    assert not run(Readiness(lc, [], "1")).ready
    lc.mark_ready()
    assert run(Readiness(lc, [], "1")).ready
    lc.mark_draining()
    report = run(Readiness(lc, [], "1"))
    assert not report.ready
    assert report.components[0].reason == "process is draining"


def test_degraded_component_still_serves(lifecycle: Lifecycle) -> None:
    check = StaticCheck("db", ComponentHealth(name="db", status="degraded", reason="slow"))
    report = run(Readiness(lifecycle, [check], "1"))
    assert (report.status, report.ready) == ("degraded", True)
    assert report.components[1] == ComponentHealth(name="db", status="degraded", reason="slow")


def test_failing_and_slow_checks_report_down(lifecycle: Lifecycle) -> None:
    checks = [
        StaticCheck("boom", RuntimeError("x")),
        StaticCheck("slow", ComponentHealth(name="slow", status="ok"), delay=5),
    ]
    report = run(Readiness(lifecycle, checks, "1", timeout_s=0.05))
    assert report.status == "down"
    reasons = {c.name: c.reason for c in report.components}
    assert "RuntimeError" in (reasons["boom"] or "")
    assert "longer than 0.05s" in (reasons["slow"] or "")
