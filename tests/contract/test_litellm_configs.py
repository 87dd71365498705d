"""LiteLLM proxy configs load unchanged: mapped, ignored with a notice, or refused naming the equivalent.

The corpus is ``tests/data/litellm/`` (realistic configs written for these tests). Each file must
validate as it is, its ``config import-litellm`` output must describe the same gateway, and together
the files must use every key of the mapping table.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import openai
import pytest
import yaml

from routeiq_app.catalog_builder import build_catalog
from routeiq_app.cli import main
from routeiq_app.settings import Settings
from routeiq_app.settings.deployments import LiteLLMParams
from routeiq_app.settings.litellm import SECTIONS, TOP_LEVEL, translate
from routeiq_app.settings.litellm_import import import_litellm
from routeiq_app.settings.litellm_rules import RULES, render_migration_table
from routeiq_app.settings.loader import load_settings_with_notices
from routeiq_core.catalog import ModelCatalog
from routeiq_core.errors import ConfigurationError
from tests.support.fake_upstream import FakeUpstream
from tests.support.gateway_process import GatewayProcess

CORPUS = Path(__file__).parent.parent / "data" / "litellm"
CONFIGS = sorted(CORPUS.glob("*.yaml"))
REFUSED = sorted((CORPUS / "refused").glob("*.yaml"))
DOC = Path(__file__).parent.parent.parent / "docs" / "litellm-migration.md"
SECRET = "sk-SENTINEL-never-shown-0123456789"
ENV = {
    "OPENAI_API_KEY": SECRET,
    "OPENAI_ORG": "org-platform",
    "AZURE_API_BASE": "https://tenant.example.openai.azure.com",
    "AZURE_API_KEY": SECRET,
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "VERTEX_PROJECT": "vertex-project-7",
    "ANTHROPIC_API_KEY": SECRET,
    "REDIS_HOST": "10.0.0.5",
    "REDIS_PORT": "6380",
    "REDIS_PASSWORD": "p@ss/word",
    "REDIS_URL": "redis://10.0.0.6:6379/0",
    "INHOUSE_KEY": SECRET,
    "LITELLM_MASTER_KEY": "sk-master-0123456789abcdef",
    "DATABASE_URL": f"postgresql://app:{SECRET}@db.internal:5432/litellm",
}


def load(path: Path | str, env: dict[str, str] | None = None) -> tuple[Settings, list[str]]:
    return load_settings_with_notices(str(path), ENV if env is None else env)


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        load(path, env)
    return caught.value.problems


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_config_validates_unchanged(path: Path) -> None:
    settings, notices = load(path)
    catalog = build_catalog(settings, str(path))
    groups = {e["model_name"] for e in yaml.safe_load(path.read_text())["model_list"]}
    assert set(catalog.names()) == groups
    assert all("\n" not in notice and ": ignored" in notice for notice in notices)
    assert not any(SECRET in notice for notice in notices)


def _used_keys(tree: dict[str, Any]) -> set[str]:
    """Every table entry (``where``) a raw LiteLLM config uses."""
    used = {f"{section}.{key}" for section in SECTIONS for key in tree.get(section) or {}}
    used |= {section for section in TOP_LEVEL if section in tree}
    if "environment_variables" in tree:
        used.add("environment_variables.*")
    native_params = {info.name for info in msgspec.structs.fields(LiteLLMParams)} - {"extra"}
    for entry in tree.get("model_list") or ():
        used |= {f"model_list[*].{key}" for key in ("rpm", "tpm") if key in entry}
        for key in entry.get("model_info") or {}:
            used.add("model_list[*].model_info." + ("supports_*" if key.startswith("supports_") else key))
        for key in entry.get("litellm_params") or {}:
            if key in ("max_retries", "stream_timeout", "drop_params", "organization", "extra_headers"):
                used.add(f"model_list[*].litellm_params.{key}")
            elif key not in native_params and key != "litellm_credential_name":
                used.add("model_list[*].litellm_params.<provider keys>")
    return used


def test_the_corpus_uses_every_key_of_the_table() -> None:
    used: set[str] = set()
    for path in [*CONFIGS, *REFUSED]:
        used |= _used_keys(yaml.safe_load(path.read_text()))
    assert {rule.where for rule in RULES} - used == set()


@pytest.mark.parametrize("path", REFUSED, ids=[p.stem for p in REFUSED])
def test_refused_keys_fail_naming_the_routeiq_equivalent(path: Path) -> None:
    problems = problems_of(path)
    tree = yaml.safe_load(path.read_text())
    refused = [rule for rule in RULES if rule.fate == "refused" and rule.where in _used_keys(tree)]
    assert refused
    for rule in refused:
        assert any(f"{rule.where}: not supported; use {rule.equivalent}" in p for p in problems), rule.where


def test_every_ignored_key_gets_one_notice_naming_it() -> None:
    _, notices = load(CORPUS / "router_redis_bedrock.yaml")
    for key in ("retry_policy", "allowed_fails_policy", "enable_pre_call_checks", "routing_strategy_args"):
        assert sum(f"router_settings.{key}: ignored" in n for n in notices) == 1, key
    _, notices = load(CORPUS / "proxy_db_budget.yaml")
    assert any(
        "general_settings.proxy_batch_write_at: ignored (not a setting RouteIQ uses)" in n for n in notices
    )
    assert sum("model_info.supports_* on 1 entries" in n for n in notices) == 1
    assert any("cache_params.supported_call_types: ignored" in n for n in notices)


def test_litellm_keys_mean_the_same_in_routeiq() -> None:
    s, _ = load(CORPUS / "router_redis_bedrock.yaml")
    assert s.routing.strategy == "latency-based"
    assert (s.resilience.num_retries, s.resilience.default_timeout_s) == (2, 30)
    assert (s.resilience.breaker_failure_threshold, s.resilience.breaker_cooldown_s) == (4, 20)
    assert s.quota.backend == "redis"
    assert s.quota.redis_url == s.state.redis_url == "redis://:p%40ss%2Fword@10.0.0.5:6380/0"
    assert s.routing.tag_filtering is True
    assert s.routing.model_group_alias == {"claude": "claude-sonnet", "fast": "claude-haiku"}
    fallbacks = {k: v for entry in s.routing.fallbacks for k, v in entry.items()}
    assert fallbacks == {"claude-sonnet": ["claude-haiku"], "claude-haiku": ["llama-local"]}
    bedrock, vertex = s.model_list[0].litellm_params, s.model_list[1].litellm_params
    assert (bedrock.rpm, vertex.tpm) == (60, 400000)
    assert bedrock.extra["aws_secret_access_key"] == SECRET
    assert vertex.extra["vertex_project"] == "vertex-project-7"

    s, _ = load(CORPUS / "proxy_db_budget.yaml")
    assert s.quota.global_limits == {"spend_per_month": 2500}
    assert s.security.master_key == ENV["LITELLM_MASTER_KEY"]
    assert (s.keys.backend, s.keys.postgres_dsn) == ("postgres", ENV["DATABASE_URL"])
    assert s.server.max_concurrent_requests == 400
    assert "exact_cache" in s.plugins.enabled
    assert s.plugins.sections["exact_cache"] == {
        "backend": "redis",
        "redis_url": "redis://127.0.0.1:6379/0",
        "ttl_s": 600,
    }
    in_house = s.model_list[1].model_info
    assert in_house.input_price_per_mtok == pytest.approx(0.4)
    assert in_house.output_price_per_mtok == pytest.approx(1.2)
    assert s.model_list[0].model_info.id == "gpt41-main"
    assert s.model_list[2].model_info.base_model == "text-embedding-3-small"


def test_credentials_are_copied_into_the_deployments_naming_them() -> None:
    s, _ = load(CORPUS / "wildcards_credentials.yaml")
    azure = next(e.litellm_params for e in s.model_list if e.model_name == "azure-eu-gpt")
    assert (azure.api_key, azure.api_base) == (SECRET, "https://eu.example.openai.azure.com")
    assert azure.extra == {"api_version": "2024-06-01"}
    assert s.routing.strategy == "usage-based"
    assert s.quota.redis_url == ENV["REDIS_URL"]


def test_native_keys_win_over_their_litellm_spelling(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        "model_list: [{model_name: m, litellm_params: {model: mock/m}}]\n"
        "resilience: {num_retries: 5}\nrouter_settings: {num_retries: 1, cooldown_time: 9}\n",
    )
    s, notices = load(path)
    assert (s.resilience.num_retries, s.resilience.breaker_cooldown_s) == (5, 9)
    assert any(
        "router_settings.num_retries: ignored, resilience.num_retries is set natively" in n for n in notices
    )


def test_environment_variables_are_set_before_references_resolve(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        "model_list:\n"
        "  - model_name: m\n"
        "    litellm_params:\n"
        "      {model: azure/d, api_key: os.environ/K, api_version: os.environ/AZURE_API_VERSION}\n"
        "environment_variables: {AZURE_API_VERSION: '2024-10-21', ROUTEIQ_SERVER__PORT: '4100'}\n",
    )
    s, _ = load(path, {"K": "k", "AZURE_API_VERSION": "old"})
    assert s.model_list[0].litellm_params.extra == {"api_version": "2024-10-21"}
    assert s.server.port == 4100


def test_missing_references_anywhere_are_reported_without_values(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        "model_list:\n"
        "  - model_name: m\n"
        "    litellm_params: {model: bedrock/x, aws_secret_access_key: os.environ/NOT_SET_1}\n"
        "router_settings: {redis_host: os.environ/NOT_SET_2}\n"
        "plugins: {enabled: [pii_guard], pii_guard: {mode: os.environ/NOT_SET_3}}\n",
    )
    problems = problems_of(path, {})
    for n in (1, 2, 3):
        assert any(
            f"'os.environ/NOT_SET_{n}': environment variable NOT_SET_{n} is not set" in p for p in problems
        )
    assert any("litellm_params.aws_secret_access_key=" in p for p in problems)


def test_a_resolved_secret_is_never_shown_in_an_error(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        "model_list: [{model_name: m, litellm_params: {model: mock/m, timeout: os.environ/S}}]\n"
        "quota: os.environ/S\ngeneral_settings: {global_max_parallel_requests: os.environ/S}\n",
    )
    problems = problems_of(path, {"S": SECRET})
    assert len(problems) >= 3
    assert not any(SECRET in p for p in problems)
    assert any("<from S>" in p and "global_max_parallel_requests" in p for p in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        "litellm_settings: [1, 2]",
        "router_settings: {routing_strategy: fastest-possible}",
        "router_settings: {allowed_fails: [1], cooldown_time: {a: 1}, num_retries: abc}",
        "router_settings: {model_group_alias: 5, fallbacks: 7}",
        "litellm_settings: {callbacks: {a: [1]}, cache_params: 3, budget_duration: 7d, max_budget: 10}",
        "litellm_settings: {default_fallbacks: {x: 1}}",
        "environment_variables: [A, B]",
        "credential_list: [{credential_name: [1]}, 3]",
        "model_list: [{model_name: m, litellm_params: {model: mock/m, litellm_credential_name: [x]}}]",
        "model_list:\n- model_name: m\n  litellm_params: {model: mock/m}\n"
        "  model_info: {output_cost_per_token: -1}",
        "general_settings: {master_key: [1], database_url: {a: b}}",
        "a: &a [*a]",
        "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
        + "".join(
            f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdef", "bcdefg", strict=True)
        ),
    ],
)
def test_malformed_litellm_sections_are_problems_not_crashes(tmp_path: Path, text: str) -> None:
    problems = problems_of(config(tmp_path, text))
    assert problems
    assert all(isinstance(p, str) and p for p in problems)


def _gateway(settings: Settings, path: Path) -> dict[str, Any]:
    """What serving depends on: every setting, and the catalog's groups with their fallbacks."""
    catalog: ModelCatalog = build_catalog(settings, str(path))
    groups = {
        g.name: (g.deployments, g.aliases, g.fallbacks, g.context_window_fallbacks) for g in catalog.groups
    }
    return {"settings": settings, "groups": groups}


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_import_litellm_round_trips(tmp_path: Path, path: Path) -> None:
    text, _ = import_litellm(str(path))
    native = tmp_path / "native.yaml"
    native.write_text(text)
    tree = yaml.safe_load(text)
    assert not set(tree) & {*SECTIONS, *TOP_LEVEL, "environment_variables"}
    assert SECRET not in text
    environment = translate(yaml.safe_load(path.read_text())).environment
    original, _ = load(path)
    env = {**ENV, **environment}
    if "os.environ/REDIS_URL" in text and "set REDIS_URL" in text:  # the import says what to set it to
        env["REDIS_URL"] = original.quota.redis_url
    converted, notices = load(native, env)
    assert notices == []
    assert _gateway(converted, native) == _gateway(original, path)


def test_config_commands_print_the_notices_and_write_the_native_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    source = CORPUS / "mock_served.yaml"
    assert main(["config", "validate", str(source)]) == 0
    out = capsys.readouterr()
    assert "valid configuration" in out.out
    assert "notice:" in out.err
    assert "general_settings.alerting: ignored" in out.err
    target = tmp_path / "native.yaml"
    assert main(["config", "import-litellm", str(source), "-o", str(target)]) == 0
    assert "general_settings.alerting: ignored" in capsys.readouterr().err
    assert main(["config", "validate", str(target)]) == 0
    assert "notice:" not in capsys.readouterr().err
    assert main(["config", "import-litellm", str(REFUSED[0])]) == 2
    assert "custom_auth: not supported" in capsys.readouterr().err


def test_a_served_litellm_config_answers_and_says_each_notice_once() -> None:
    with GatewayProcess(CORPUS / "mock_served.yaml", env={"ROUTEIQ_SERVER__WORKERS": "2"}) as gw:
        client = openai.OpenAI(base_url=gw.base_url + "/v1", api_key="sk-litellm-master-0123456789")
        reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content
        denied = httpx.get(gw.base_url + "/v1/models", headers={"Authorization": "Bearer sk-wrong"})
        assert denied.status_code == 401
        log = gw.log()
    notices = [line for line in log.splitlines() if "notice:" in line]
    assert notices
    assert len(notices) == len(set(notices))
    assert sum("general_settings.alerting: ignored" in line for line in notices) == 1


def test_provider_params_from_the_environment_reach_the_upstream(tmp_path: Path) -> None:
    with FakeUpstream() as upstream:
        root = upstream.base_url.removesuffix("/v1")
        path = config(
            tmp_path,
            "model_list:\n"
            "  - model_name: azure-gpt\n"
            "    litellm_params:\n"
            "      model: azure/gpt-4o-prod\n"
            f"      api_base: {root}\n"
            "      api_key: os.environ/AZURE_API_KEY\n"
            "      api_version: os.environ/AZURE_API_VERSION\n"
            "  - model_name: org-gpt\n"
            "    litellm_params:\n"
            "      model: openai/gpt-4o\n"
            f"      api_base: {upstream.base_url}\n"
            "      organization: os.environ/OPENAI_ORG\n"
            "      extra_headers: {X-Tenant: os.environ/TENANT}\n"
            "litellm_settings: {num_retries: 0}\n",
        )
        env = {
            "AZURE_API_KEY": "az-key-1",
            "AZURE_API_VERSION": "2024-10-21",
            "OPENAI_ORG": "org-7",
            "TENANT": "t9",
        }
        with GatewayProcess(path, env=env, ready_timeout_s=60) as gw:
            reply = httpx.post(
                gw.base_url + "/v1/chat/completions",
                json={"model": "azure-gpt", "messages": [{"role": "user", "content": "hi"}]},
                timeout=60,
            )
            assert reply.status_code == 200, reply.text
            reply = httpx.post(
                gw.base_url + "/v1/chat/completions",
                json={"model": "org-gpt", "messages": [{"role": "user", "content": "hi"}]},
                timeout=60,
            )
            assert reply.status_code == 200, reply.text
    azure, native = upstream.requests[-2:]
    assert azure["path"] == "/openai/deployments/gpt-4o-prod/chat/completions"
    assert azure["query"] == {"api-version": "2024-10-21"}
    assert azure["api_key"] == "az-key-1"
    assert (native["path"], native["json"]["model"]) == ("/v1/chat/completions", "gpt-4o")
    assert (native["headers"]["OpenAI-Organization"], native["headers"]["X-Tenant"]) == ("org-7", "t9")


def test_the_migration_table_in_the_docs_is_current() -> None:
    assert render_migration_table() in DOC.read_text(encoding="utf-8"), (
        "regenerate: see docs/litellm-migration.md"
    )


def test_database_url_puts_keys_in_postgresql(tmp_path: Path, postgres_dsn: str) -> None:
    schema = f"riq_litellm_{uuid.uuid4().hex[:12]}"
    path = config(
        tmp_path,
        "model_list: [{model_name: chat, litellm_params: {model: mock/chat}}]\n"
        f"keys: {{postgres_schema: {schema}}}\n"
        "general_settings:\n"
        "  {master_key: os.environ/LITELLM_MASTER_KEY, database_url: os.environ/DATABASE_URL}\n",
    )
    master = {"Authorization": "Bearer sk-master-0123456789abcdef"}
    env = {"LITELLM_MASTER_KEY": "sk-master-0123456789abcdef", "DATABASE_URL": postgres_dsn}
    try:
        with GatewayProcess(path, env=env) as gw:
            issued = httpx.post(gw.base_url + "/key/generate", json={"models": ["chat"]}, headers=master)
            assert issued.status_code == 200, issued.text
            reply = httpx.post(
                gw.base_url + "/v1/chat/completions",
                json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
                headers={"x-litellm-api-key": issued.json()["key"]},
            )
            assert reply.status_code == 200, reply.text
        stored = asyncio.run(_stored_key_ids(postgres_dsn, schema))
        assert stored == [issued.json()["token"]]
    finally:
        asyncio.run(_drop(postgres_dsn, schema))


async def _stored_key_ids(dsn: str, schema: str) -> list[str]:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
        table = next(r["table_name"] for r in tables if "key" in r["table_name"])
        return [r["key_id"] for r in await conn.fetch(f"SELECT key_id FROM {schema}.{table}")]
    finally:
        await conn.close()


async def _drop(dsn: str, schema: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()
