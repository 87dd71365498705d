"""Settings: precedence, complete fail-fast validation, secrets, did-you-mean, generated docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from routeiq_app.settings import Settings, load_settings
from routeiq_app.settings.docs import render_reference
from routeiq_core.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


def problems(
    config: str | None = None, env: dict[str, str] | None = None, tmp: Path | None = None
) -> list[str]:
    path = None
    if config is not None:
        assert tmp is not None
        path = str(tmp / "c.yaml")
        Path(path).write_text(config)
    with pytest.raises(ConfigurationError) as info:
        load_settings(path, env or {})
    return info.value.problems


def test_defaults_need_nothing() -> None:
    s = load_settings(None, {})
    assert s == Settings()
    assert s.server.host == "127.0.0.1"
    assert s.security.master_key is None


def test_yaml_then_env_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("server:\n  port: 5000\n  workers: 3\nobservability:\n  service_name: from-yaml\n")
    s = load_settings(str(cfg), {"ROUTEIQ_SERVER__PORT": "6000"})
    assert (s.server.port, s.server.workers, s.observability.service_name) == (6000, 3, "from-yaml")


def test_config_path_from_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("server:\n  port: 5001\n")
    assert load_settings(None, {"ROUTEIQ_CONFIG": str(cfg)}).server.port == 5001


def test_otel_service_name_and_routeiq_variable_wins() -> None:
    assert load_settings(None, {"OTEL_SERVICE_NAME": "svc"}).observability.service_name == "svc"
    both = {"OTEL_SERVICE_NAME": "svc", "ROUTEIQ_OBSERVABILITY__SERVICE_NAME": "mine"}
    assert load_settings(None, both).observability.service_name == "mine"


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    found = problems(
        "server:\n  workers: 0\n  prot: 1\n",
        {"ROUTEIQ_SERVER__MAX_CONCURRENT_REQUESTS": "abc", "ROUTEIQ_SERVER__LOG_LEVEL": "loud"},
        tmp_path,
    )
    assert "ROUTEIQ_SERVER__MAX_CONCURRENT_REQUESTS='abc': expected a positive integer" in found
    assert "ROUTEIQ_SERVER__LOG_LEVEL='loud': expected one of 'debug', 'error', 'info', 'warning'" in found
    assert any(p.endswith("server.workers=0: expected a positive integer") for p in found)
    assert any("server.prot: unknown key; did you mean server.port?" in p for p in found)
    assert len(found) == 4


def test_port_range_is_named() -> None:
    assert problems(env={"ROUTEIQ_SERVER__PORT": "70000"}) == [
        "ROUTEIQ_SERVER__PORT='70000': expected an integer between 1 and 65535"
    ]


def test_unknown_variable_suggests_the_right_name() -> None:
    assert problems(env={"ROUTEIQ_SERVER__PORTT": "1"}) == [
        "ROUTEIQ_SERVER__PORTT: unknown setting; did you mean ROUTEIQ_SERVER__PORT?"
    ]
    assert problems(env={"ROUTEIQ_WHATEVER": "1"}) == [
        "ROUTEIQ_WHATEVER: unknown setting; see docs/configuration.md"
    ]


def test_other_prefixes_are_ignored() -> None:
    assert load_settings(None, {"LITELLM_MASTER_KEY": "x", "OTEL_TRACES_EXPORTER": "none"}) == Settings()


def test_unknown_top_level_key(tmp_path: Path) -> None:
    (found,) = problems("servr:\n  port: 1\n", tmp=tmp_path)
    assert "servr: unknown key; did you mean server?" in found


def test_section_must_be_a_mapping(tmp_path: Path) -> None:
    (found,) = problems("server: 5\n", tmp=tmp_path)
    assert found.endswith("server=5: expected a mapping of settings")


def test_secret_reference_is_resolved(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("security:\n  master_key: os.environ/MY_KEY\n")
    assert load_settings(str(cfg), {"MY_KEY": "sk-123"}).security.master_key == "sk-123"


def test_missing_secret_is_a_clear_error(tmp_path: Path) -> None:
    (found,) = problems("security:\n  master_key: os.environ/MY_KEY\n", tmp=tmp_path)
    assert found.endswith("security.master_key='os.environ/MY_KEY': environment variable MY_KEY is not set")


def test_lists_from_env_as_json_or_commas() -> None:
    assert load_settings(None, {"ROUTEIQ_SERVER__CORS_ORIGINS": '["a", "b"]'}).server.cors_origins == [
        "a",
        "b",
    ]
    assert load_settings(None, {"ROUTEIQ_SERVER__CORS_ORIGINS": "a, b,"}).server.cors_origins == ["a", "b"]


def test_empty_env_value_clears_an_optional_setting(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("security:\n  master_key: k\n")
    assert load_settings(str(cfg), {"ROUTEIQ_SECURITY__MASTER_KEY": ""}).security.master_key is None


def test_bool_from_env() -> None:
    s = load_settings(None, {"ROUTEIQ_SECURITY__ALLOW_OPEN_NON_LOOPBACK": "true"})
    assert s.security.allow_open_non_loopback is True


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    (found,) = problems("server:\n  port: [1,\n", tmp=tmp_path)
    assert "not valid YAML at line" in found


def test_missing_file(tmp_path: Path) -> None:
    (found,) = problems(env={"ROUTEIQ_CONFIG": str(tmp_path / "none.yaml")})
    assert "cannot read the config file" in found


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    (found,) = problems("- 1\n- 2\n", tmp=tmp_path)
    assert "top level must be a mapping" in found


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("")
    assert load_settings(str(cfg), {}) == Settings()


def test_demo_config_is_valid() -> None:
    load_settings(str(ROOT / "examples" / "demo-config.yaml"), {})


def test_committed_reference_doc_is_current() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render_reference(), "docs/configuration.md is stale: run `routeiq config docs`"


def test_reference_lists_every_env_var() -> None:
    text = render_reference()
    for var in (
        "ROUTEIQ_SERVER__MAX_CONCURRENT_REQUESTS",
        "ROUTEIQ_SECURITY__MASTER_KEY",
        "OTEL_SERVICE_NAME",
    ):
        assert f"`{var}`" in text


def test_http_route_and_method_matches_are_refused_with_their_replacement(tmp_path: Path) -> None:
    yaml = "policy:\n  rules:\n    - name: r\n      match: {routes: ['/v1/chat/*'], methods: [POST]}\n"
    found = problems(yaml, tmp=tmp_path)
    assert len(found) == 2, found
    assert any("policy.rules[0].match.routes: no longer a key" in p and "operations" in p for p in found)
    assert any("policy.rules[0].match.methods: no longer a key" in p and "surfaces" in p for p in found)
