"""schemathesis over the gateway's own OpenAPI document (the OpenAI calls included): no 5xx, ever.

A bounded number of generated examples per operation and phase (``FUZZ_EXAMPLES``, 20 by default,
about 1,300 requests in 5 s, so ``make test`` stays quick), against a real `routeiq serve`,
authenticated as the admin so the requests get past the door. The reload operation, which would
replace the server under test, is excluded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.gateway_process import GatewayProcess

MASTER = "sk-fuzz-master-key-0123456789abc"
ADMIN = {"Authorization": f"Bearer {MASTER}"}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
CONFIG = """
model_list:
  - model_name: demo
    litellm_params: {model: mock/demo}
  - model_name: string
    litellm_params: {model: mock/string}
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    keys = str(tmp_path_factory.mktemp("fuzz") / "keys.db")
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": keys}
    with GatewayProcess(CONFIG, env=env) as gw:
        yield gw
        assert "Traceback" not in gw.log(), gw.log()[-4000:]


def test_no_operation_answers_a_server_error(gateway: GatewayProcess) -> None:
    """The schemathesis CLI (its pytest plugin does not run on this pytest), seeded, all phases."""
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "run", f"{gateway.base_url}/schema/openapi.json",
        "--checks", "not_a_server_error",
        "--max-examples", str(EXAMPLES),
        "--seed", "20261201",
        "--header", f"Authorization: Bearer {MASTER}",
        "--exclude-path", "/admin/config/reload",
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    summary = run.stdout[run.stdout.rfind("SUMMARY") :]
    print(summary)  # the counts, for the record (pytest -s)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "passed" in summary


def test_the_document_describes_the_openai_calls(gateway: GatewayProcess) -> None:
    doc = httpx.get(f"{gateway.base_url}/schema/openapi.json", timeout=10).json()
    for path in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings"):
        operation = doc["paths"][path]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]
        assert {"200", "400", "401", "429"} <= set(operation["responses"])
    served = httpx.post(
        f"{gateway.base_url}/v1/chat/completions",
        json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
        headers=ADMIN,
        timeout=10,
    )
    assert served.status_code == 200  # the surface router answered, not the description
    assert "x-routeiq-deployment" in served.headers
