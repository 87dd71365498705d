"""The Kubernetes manifests and the image definition: rendered, schema-validated, and held to invariants.

Every overlay under ``deploy/kubernetes/overlays`` is rendered with ``kubectl kustomize`` and each
object validated against the Kubernetes schemas (``kubernetes-validate``, version pinned below,
strict: unknown fields fail). Then what a safe deployment needs is asserted: probes, a grace period
longer than the drain, non-root and read-only containers, a config that rolls the pods when it
changes and that RouteIQ itself accepts, and the HA topology's shared state.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import msgspec
import pytest
import yaml

from routeiq_app.catalog_builder import build_catalog
from routeiq_app.settings import load_settings
from routeiq_app.startup_checks import startup_problems
from tests.support.gateway_process import clean_env, free_port

ROOT = Path(__file__).parent.parent.parent
DEPLOY = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(p.parent.name for p in (DEPLOY / "overlays").glob("*/kustomization.yaml"))
KUBERNETES_VERSION = "1.32.0"
SECRET_VALUES = {
    "master-key": "sk-deploy-test-0123456789abcdef",
    "key-hash-secret": "hash-secret-0123456789abcdef",
    "redis-url": "redis://127.0.0.1:6379/0",
    "database-url": "postgresql://postgres@127.0.0.1:5432/test",
    # A key made by `routeiq audit keygen` for this test only.
    "audit-signing-key": "PRIVATE+KEY+routeiq/audit+44a5d7b6+AaqeWfdf6tkmS/dOd7f04vxa+D5CSHvzX47y/Ky8wAtJ",
}


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl (with kustomize) is required in CI to render deploy/kubernetes")
        pytest.skip("kubectl is not installed: deploy/kubernetes is not rendered")
    return found


def render(path: Path, *flags: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [_kubectl(), "kustomize", *flags, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(DEPLOY / "overlays" / request.param)


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def pod_spec(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = one(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def gateway(spec: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in spec["containers"] if c["name"] == "routeiq")


def test_every_overlay_is_there() -> None:
    assert {"single", "ha"} <= set(OVERLAYS)


def test_every_object_is_valid_for_the_pinned_kubernetes(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_probes_and_a_grace_period_longer_than_the_drain(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    spec = pod_spec(objects)
    main = gateway(spec)
    port = {p["name"]: p["containerPort"] for p in main["ports"]}["http"]
    assert main["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert port == served_settings(objects).server.port
    pause = _prestop_seconds(main)
    drain = served_settings(objects).server.drain_timeout_s
    assert spec["terminationGracePeriodSeconds"] > pause + drain


def _prestop_seconds(container: dict[str, Any]) -> int:
    hook = container.get("lifecycle", {}).get("preStop")
    if hook is None:
        return 0
    command = hook["exec"]["command"]
    assert command[0] == "sleep"
    return int(command[1])


def test_containers_run_unprivileged_on_a_read_only_root(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    spec = pod_spec(objects)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in spec["volumes"]}
    for container in containers(spec):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        assert context.get("runAsUser", 1) != 0, container["name"]
        assert context.get("runAsNonRoot", True) is True, container["name"]
        assert not context.get("privileged", False), container["name"]
        assert "memory" in container["resources"]["limits"], container["name"]
        assert container["resources"]["requests"], container["name"]
        writable = [m for m in container["volumeMounts"] if not m.get("readOnly")]
        assert [m["mountPath"] for m in writable] == [image_env()["HOME"]], container["name"]
        assert all("emptyDir" in volumes[m["name"]] for m in writable)


def test_the_config_map_is_named_by_its_content_and_mounted(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = overlay
    config = one(objects, "ConfigMap")
    name = config["metadata"]["name"]
    assert name.startswith("routeiq-config-")
    assert len(name) > len("routeiq-config-")  # kustomize's content hash: a change rolls the pods
    spec = pod_spec(objects)
    mounted = [v["configMap"]["name"] for v in spec["volumes"] if "configMap" in v]
    assert mounted == [name]
    assert "config.yaml" in config["data"]
    for container in containers(spec):
        assert "/etc/routeiq/config.yaml" in container["args"]


def test_the_master_key_comes_from_a_secret(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    for container in containers(pod_spec(objects)):
        env = {e["name"]: e for e in container["env"]}
        ref = env["ROUTEIQ_SECURITY__MASTER_KEY"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "routeiq-secrets", "key": "master-key"}
        assert all("value" not in e or "KEY" not in e["name"] for e in container["env"])


def test_the_service_reaches_the_pods(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    service = one(objects, "Service")
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["selector"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def served_settings(objects: list[dict[str, Any]], tmp: Path | None = None) -> Any:
    """The ConfigMap's config loaded by RouteIQ with the Deployment's environment (secrets stubbed)."""
    directory = tmp or Path(os.environ.get("TMPDIR", "/tmp"))
    path = directory / f"rendered-{os.getpid()}-{time.monotonic_ns()}.yaml"
    path.write_text(one(objects, "ConfigMap")["data"]["config.yaml"])
    try:
        return load_settings(str(path), container_env(gateway(pod_spec(objects))))
    finally:
        path.unlink()


def container_env(container: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            env[item["name"]] = SECRET_VALUES[item["valueFrom"]["secretKeyRef"]["key"]]
    return env


def test_routeiq_accepts_the_config_it_is_given(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = overlay
    settings = served_settings(objects)
    assert build_catalog(settings).names()
    host = image_env()["ROUTEIQ_SERVER__HOST"]
    assert startup_problems(msgspec_replace_host(settings, host)) == []


def msgspec_replace_host(settings: Any, host: str) -> Any:
    return msgspec.structs.replace(settings, server=msgspec.structs.replace(settings.server, host=host))


def test_the_ha_overlay_shares_state_and_survives_disruption() -> None:
    objects = render(DEPLOY / "overlays" / "ha")
    settings = served_settings(objects)
    assert settings.quota.backend == "redis"
    assert settings.state.redis_url == settings.quota.redis_url
    assert settings.keys.backend == "postgres"
    deployment = one(objects, "Deployment")
    spec = pod_spec(objects)
    workers = int(container_env(gateway(spec))["ROUTEIQ_SERVER__WORKERS"])
    assert deployment["spec"]["replicas"] >= 2
    assert workers >= 2
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"].get("maxUnavailable") == 1 or pdb["spec"].get("minAvailable", 0) >= 1
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2
    policy = one(objects, "NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert {c["topologyKey"] for c in spec["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    migrate = next(c for c in spec["initContainers"] if c["name"] == "migrate")
    assert migrate["args"][0] == "migrate"
    assert "--wait" in migrate["args"]
    assert migrate["image"] == gateway(spec)["image"]
    assert container_env(migrate) == {
        k: v for k, v in container_env(gateway(spec)).items() if k != "ROUTEIQ_SERVER__WORKERS"
    }


def test_the_monitoring_component_adds_a_service_monitor(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    ha, monitoring = (os.path.relpath(DEPLOY / p, overlay) for p in ("overlays/ha", "components/monitoring"))
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [{ha}]\ncomponents: [{monitoring}]\n"
    )
    objects = render(overlay, "--load-restrictor", "LoadRestrictionsNone")
    monitor = one(objects, "ServiceMonitor")  # a CRD: no bundled schema, so its fields are checked here
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    service = one(objects, "Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]


# The image -----------------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, args in dockerfile():
        if instruction == "ENV":
            env.update(part.split("=", 1) for part in shlex.split(args))
    return env


def test_the_image_is_multi_stage_non_root_under_tini_without_compilers() -> None:
    steps = dockerfile()
    stages = [i for i, (instruction, _) in enumerate(steps) if instruction == "FROM"]
    assert len(stages) >= 2
    runtime = steps[stages[-1] :]
    user = [args for instruction, args in runtime if instruction == "USER"]
    assert user
    assert user[-1].split(":")[0].isdigit()
    assert user[-1].split(":")[0] != "0"
    runs = " ".join(args for instruction, args in runtime if instruction == "RUN")
    assert not any(tool in runs for tool in ("gcc", "build-essential", "g++", "clang"))
    entry = [args for instruction, args in runtime if instruction == "ENTRYPOINT"][-1]
    assert yaml.safe_load(entry)[:2] == ["/usr/bin/tini", "--"]
    assert "tini" in runs
    volumes = [args for instruction, args in runtime if instruction == "VOLUME"]
    assert volumes == ['["/data"]']
    env = image_env()
    for name in ("HOME", "TMPDIR"):
        assert env[name] == "/data"
    assert env["ROUTEIQ_KEYS__SQLITE_PATH"].startswith("/data/")


@pytest.fixture
def image_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """``routeiq serve`` as the image runs it (its ENV, ENTRYPOINT, CMD and config), /data a folder."""
    data = tmp_path / "data"
    data.mkdir()
    env = {k: v.replace("/data", str(data)) for k, v in image_env().items()}
    env["PATH"] = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    env["ROUTEIQ_CONFIG"] = str(ROOT / "deploy" / "docker" / "config.yaml")
    env["ROUTEIQ_SECURITY__MASTER_KEY"] = SECRET_VALUES["master-key"]
    port = free_port()
    env["ROUTEIQ_SERVER__PORT"] = str(port)
    steps = dockerfile()
    entry = yaml.safe_load([a for i, a in steps if i == "ENTRYPOINT"][-1])
    command = entry + yaml.safe_load([a for i, a in steps if i == "CMD"][-1])
    if not Path(command[0]).exists():  # tini: only inside the image unless installed here
        command = command[2:]
    command[0] = str(Path(sys.executable).parent / command[0])
    proc = subprocess.Popen(
        command, env=clean_env(**env), cwd=data, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield proc, base, data
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_image_command_serves_writes_only_under_data_and_drains_on_sigterm(
    image_process: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    proc, base, data = image_process
    admin = {"Authorization": f"Bearer {SECRET_VALUES['master-key']}"}
    issued = httpx.post(base + "/admin/keys", json={"models": ["demo"]}, headers=admin, timeout=10)
    assert issued.status_code in (200, 201), issued.text
    reply = httpx.post(
        base + "/v1/chat/completions",
        json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {issued.json()['key']}"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    assert any(p.name.startswith("routeiq-keys") for p in data.iterdir())  # the key store lives in /data
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0
