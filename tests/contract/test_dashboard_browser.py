"""The dashboard in a real headless Chromium against a real `routeiq serve` with the mock provider.

Signs in with the master key, creates a key with a budget and chats with it in the playground (a
streamed answer), finds the call in the request log, its spend by day and its budget burn-down,
edits the key and clears its last limit, rotates and revokes it and sees the next call refused;
creates, edits (clearing its last limit) and deletes a team; verifies the audit chain; explains a
prompt with a routed model's router; reads the config hash and plugins; pages through a viewer's
keys, and checks that a viewer sees but cannot change keys or teams; the overview counts the calls of
every worker of a two-worker node. No console errors and no request to any other origin.
Screenshots of every screen are saved under a temp dir (printed with ``-s``).

Needs the machine's Chromium (``apt-get install -y chromium``; ``make test`` installs it as root):
skipped with the reason when it is missing, failed when ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from routeiq_core.routing.learned import (
    HashingEmbedderConfig,
    load_routing_table,
    save_router,
    train_routing_model,
)
from tests.contract.test_model_router_http import write_table
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow

MASTER = "sk-master-dashboard-browser"
ANSWER = "Hello from the dashboard test"
CONFIG = f"""
model_list:
  - model_name: demo
    litellm_params:
      model: mock/demo
      mock: {{content: '{ANSWER}', inter_token_ms: 5, prompt_tokens: 10, completion_tokens: 5}}
    model_info: {{id: demo-a, input_price_per_mtok: 1000, output_price_per_mtok: 2000}}
  - model_name: cheap
    litellm_params: {{model: mock/cheap}}
  - model_name: strong
    litellm_params: {{model: mock/strong}}
resilience: {{num_retries: 0}}
plugins: {{enabled: [cost_tracker]}}
mcp:  # an upstream MCP server that is down: the System screen shows its state
  servers: [{{name: tools, url: 'http://127.0.0.1:9/mcp'}}]
  allow_private_networks: ['127.0.0.0/8']
"""
ROUTED = """
routing:
  routers:
    - name: auto
      artifact: '{artifact}'
      model_map: {{small-model: cheap, big-model: strong}}
"""
SCREENS = (
    "overview",
    "requests",
    "keys",
    "teams",
    "spend",
    "deployments",
    "routing",
    "playground",
    "audit",
    "system",
)


def chromium_path() -> str:
    """The machine's Chromium, or a skip (a failure under CI) saying how to get it."""
    path = shutil.which("chromium")
    reason = ""
    if path is None:
        reason = "Chromium is not installed (apt-get install -y chromium, or run `make test` as root)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    assert path is not None
    return path


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    root = tmp_path_factory.mktemp("dashboard")
    write_table(root / "table.jsonl")
    router = train_routing_model(
        "knn",
        load_routing_table(root / "table.jsonl"),
        embedder_config=HashingEmbedderConfig(dim=256),
        seed=0,
    )
    artifact = save_router(router, root / "artifact")
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(root / "keys.db")}
    with GatewayProcess(CONFIG + ROUTED.format(artifact=artifact), env=env) as gw:
        yield gw
        assert "Traceback" not in gw.log(), gw.log()


class Watch:
    """Everything a page asked for, every console error it logged, and its failed loads.

    Chromium logs each 4xx/5xx answer as a console error ("Failed to load resource"): those are kept
    apart, as ``failed`` (path and status), so a test can say which refusals it expected.
    """

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        self.errors: list[str] = []
        self.failed: list[tuple[str, int]] = []
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed.append((httpx.URL(response.url).path, response.status))

    def _console(self, message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def sign_in(page: Any, base_url: str, key: str) -> None:
    page.goto(f"{base_url}/ui")
    page.fill("#login-key", key)
    page.click("#login-submit")
    page.wait_for_selector("#shell", state="visible")


def open_screen(page: Any, screen: str) -> None:
    page.click(f"#nav-{screen}")
    page.wait_for_selector(f"#screen-{screen}")


def until_text(page: Any, apply: str, selector: str, text: str, tries: int = 40) -> None:
    """Click ``apply`` until ``selector`` shows ``text`` (records are written as calls end)."""
    for _ in range(tries):
        page.click(apply)
        page.wait_for_timeout(250)
        if text in (page.text_content(selector) or ""):
            return
    raise AssertionError(f"{text!r} never appeared in {selector}: {page.text_content(selector)!r}")


def chat(page: Any, key: str) -> None:
    open_screen(page, "playground")
    page.fill("#play-key", key)
    page.dispatch_event("#play-key", "change")
    page.wait_for_selector("#play-model option[value=demo]", state="attached")
    page.fill("#play-prompt", "Say hello.")
    page.click("#play-send")


ADMIN = {"Authorization": f"Bearer {MASTER}"}


def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``$DASHBOARD_SCREENSHOTS`` (kept, e.g. as a CI artifact), else a pytest temp dir."""
    wanted = os.environ.get("DASHBOARD_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        return Path(wanted)
    return tmp_path_factory.mktemp("dashboard-screens")


def teams_flow(page: Any, gateway: GatewayProcess) -> None:
    """Create a team with a limit, rename it and clear its last limit, then delete it (two clicks)."""
    open_screen(page, "teams")
    page.fill("#team-id", "ui-team")
    page.fill("#team-alias", "first name")
    page.fill("#team-rpm", "10")
    page.click("#team-create-submit")
    row = page.locator("#team-list tr", has_text="ui-team")
    page.wait_for_selector("#team-list tr:has-text('ui-team'):has-text('requests_per_minute 10')")
    row.locator("[data-action=edit]").click()
    page.fill("#team-edit-alias", "second name")
    page.fill("#team-edit-requests_per_minute", "")
    page.fill("#team-edit-budget", "5")
    page.click("#team-edit-submit")
    page.wait_for_selector("#team-status >> text=Saved ui-team")
    page.wait_for_selector("#team-list tr:has-text('second name'):has-text('$5 / month')")
    assert "requests_per_minute" not in (row.text_content() or "")
    team = httpx.get(f"{gateway.base_url}/admin/teams/ui-team", headers=ADMIN).json()
    assert team["limits"] == {}
    assert team["alias"] == "second name"
    row.locator("[data-action=delete]").click()
    assert httpx.get(f"{gateway.base_url}/admin/teams/ui-team", headers=ADMIN).json()["deleted_at"] is None
    row.locator("[data-action=delete]").click()
    page.wait_for_selector("#team-status >> text=Deleted ui-team")
    page.wait_for_selector("#team-list tr:has-text('ui-team')", state="detached")
    assert (
        httpx.get(f"{gateway.base_url}/admin/teams/ui-team", headers=ADMIN).json()["deleted_at"] is not None
    )
    kept = {"team_id": "ui-kept", "alias": "kept", "budget": {"max_spend": 2}}
    httpx.post(f"{gateway.base_url}/admin/teams", json=kept, headers=ADMIN).raise_for_status()


def test_admin_flow_from_sign_in_to_revocation(
    browser: Any, gateway: GatewayProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots = screenshot_dir(tmp_path_factory)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    watch = Watch(page)
    sign_in(page, gateway.base_url, MASTER)
    assert page.text_content("#who") == "admin (admin)"

    open_screen(page, "keys")
    page.fill("#key-alias", "playground")
    page.select_option("#key-role", "member")
    page.fill("#key-budget", "50")
    page.click("#key-create-submit")
    secret = (page.text_content("#key-secret-value") or "").strip()
    assert secret
    key_id = httpx.get(
        f"{gateway.base_url}/ui/session", headers={"Authorization": f"Bearer {secret}"}
    ).json()["key_id"]
    page.wait_for_selector(f"#key-list td:has-text('{key_id}')")

    chat(page, secret)
    page.wait_for_selector("#play-done")
    assert page.text_content("#play-output") == ANSWER

    open_screen(page, "requests")
    page.fill("#filter-key_id", key_id)
    until_text(page, "#request-filters button[type=submit]", "#request-list", "demo-a")
    page.click("#request-list tbody tr")
    page.wait_for_selector("#request-detail")
    detail = page.text_content("#request-detail") or ""
    assert key_id in detail
    assert "demo-a" in detail

    open_screen(page, "spend")
    until_text(page, "#spend-filters button[type=submit]", "#spend-report", key_id)
    page.select_option("#spend-filters select[name=window]", "2592000")
    page.click("#spend-filters button[type=submit]")
    page.wait_for_selector("#spend-daily h3:has-text('last 30 day')")
    assert page.locator("#chart-spend-daily rect").count() == 30  # one bar per day
    assert "max 0.02" in (page.text_content("#chart-spend-daily figcaption") or "")  # today's bar
    page.wait_for_selector("#spend-burndown .burndown:has-text('key playground')")
    assert "of $50 per month" in (page.text_content("#spend-burndown") or "")

    open_screen(page, "keys")
    row = page.locator("#key-list tr", has_text=key_id)
    row.locator("[data-action=edit]").click()
    page.fill("#key-edit-models", "demo, other-*")
    page.fill("#key-edit-requests_per_minute", "60")
    page.click("#key-edit-submit")
    page.wait_for_selector("#key-status >> text=Saved")
    edited = f"#key-list tr:has-text('{key_id}'):has-text('demo, other-*')"
    page.wait_for_selector(f"{edited}:has-text('requests_per_minute 60')")
    row.locator("[data-action=edit]").click()  # clear the key's last (only) limit
    assert page.input_value("#key-edit-requests_per_minute") == "60"
    page.fill("#key-edit-requests_per_minute", "")
    page.click("#key-edit-submit")
    page.wait_for_selector("#key-status >> text=Saved")
    page.wait_for_selector(f"{edited}:not(:has-text('requests_per_minute'))")
    assert httpx.get(f"{gateway.base_url}/admin/keys/{key_id}", headers=ADMIN).json()["limits"] == {}
    row.locator("[data-action=rotate]").click()
    page.wait_for_selector("#key-secret >> text=new secret")
    rotated = (page.text_content("#key-secret-value") or "").strip()
    assert rotated
    assert rotated != secret
    row.locator("[data-action=revoke]").click()
    row.locator("[data-action=revoke]").click()
    page.wait_for_selector("#key-status >> text=Revoked")

    chat(page, rotated)
    page.wait_for_selector("#play-status .error")
    assert "401" in (page.text_content("#play-status") or "")

    open_screen(page, "routing")
    page.click("#explain-submit")
    page.wait_for_selector("#explain-decision >> text=allowed")
    page.fill("#route-prompt", "solve the integral of x^5 dx step by step")
    page.click("#route-explain-submit")
    page.wait_for_selector("#route-choice >> text=strong")
    assert page.locator("#route-explain-result tbody tr").count() == 2
    page.fill("#route-prompt", "say hello to friend number 3")
    page.click("#route-explain-submit")
    page.wait_for_selector("#route-choice >> text=cheap")
    page.screenshot(path=str(shots / "routing-explained.png"), full_page=True)

    teams_flow(page, gateway)

    open_screen(page, "audit")
    page.click("#audit-verify-run")
    page.wait_for_selector("#audit-verify-result >> text=Verified")
    page.screenshot(path=str(shots / "audit-verified.png"), full_page=True)

    open_screen(page, "system")
    page.wait_for_selector("#system-config-hash")
    assert (page.text_content("#system-config-hash") or "").startswith("sha256:")
    assert "cost_tracker" in (page.text_content("#system-plugins") or "")
    page.wait_for_selector("#system-a2a")
    page.wait_for_selector("#system-mcp tbody tr:has-text('tools'):has-text('down')")

    open_screen(page, "overview")
    page.wait_for_selector("#overview-cards")
    page.wait_for_selector("#chart-rps polyline", state="attached")  # the startup sample to now
    page.wait_for_selector("#chart-calls rect", state="attached")

    for screen in SCREENS:
        open_screen(page, screen)
        page.wait_for_load_state("networkidle")
        if screen == "overview":
            page.wait_for_selector("#overview-cards")
        page.screenshot(path=str(shots / f"{screen}.png"), full_page=True)
    print(f"dashboard screenshots: {shots}")
    page.click("#logout")
    page.wait_for_selector("#login", state="visible")

    assert watch.errors == [], watch.errors
    # The only refusals: the revoked key's model list and call.
    assert set(watch.failed) == {("/v1/models", 401), ("/v1/chat/completions", 401)}, watch.failed
    foreign = [u for u in watch.urls if not u.startswith(gateway.base_url + "/")]
    assert foreign == [], foreign
    page.close()


def test_a_viewer_sees_but_cannot_create(browser: Any, gateway: GatewayProcess) -> None:
    httpx.post(f"{gateway.base_url}/admin/teams", json={"team_id": "t1"}, headers=ADMIN)
    issued = httpx.post(
        f"{gateway.base_url}/admin/keys",
        json={"role": "viewer", "alias": "look-only", "team": "t1"},
        headers={"Authorization": f"Bearer {MASTER}"},
    ).json()
    for n in range(20):  # a second page of the team's keys
        httpx.post(
            f"{gateway.base_url}/admin/keys",
            json={"role": "member", "alias": f"filler-{n}", "team": "t1"},
            headers={"Authorization": f"Bearer {MASTER}"},
        ).raise_for_status()
    page = browser.new_page()
    watch = Watch(page)
    sign_in(page, gateway.base_url, issued["key"])
    assert "(viewer)" in (page.text_content("#who") or "")
    open_screen(page, "keys")
    page.wait_for_selector("#key-readonly")
    page.wait_for_selector("#key-list table")
    assert page.locator("#key-create").count() == 0
    assert page.locator("[data-action=revoke]").count() == 0
    first_page = page.text_content("#key-list tbody") or ""
    assert page.locator("#key-list tbody tr").count() == 20
    page.click("#key-list .pager >> text=Next")
    page.wait_for_selector("#key-list .pager >> text=Page 2")
    second_page = page.text_content("#key-list tbody") or ""
    assert page.locator("#key-list tbody tr").count() == 1
    assert issued["key_id"] in first_page + second_page
    page.click("#key-list .pager >> text=Previous")
    page.wait_for_selector("#key-list .pager >> text=Page 1")
    open_screen(page, "audit")
    assert "Only admins and auditors" in (page.text_content("#screen-audit") or "")
    open_screen(page, "teams")
    page.wait_for_selector("#team-readonly")
    page.wait_for_selector("#team-list")
    assert page.locator("#team-create, [data-action=edit], [data-action=delete]").count() == 0
    open_screen(page, "routing")
    page.wait_for_selector("#routing-strategy")
    assert page.locator("#route-explain-form, #explain-form").count() == 0  # no policy.explain
    open_screen(page, "system")
    page.wait_for_selector("#system-config-hash")  # a viewer reads the system screen
    page.wait_for_selector("#system-mcp >> text=lacks mcp.servers.read")
    refused = httpx.patch(
        f"{gateway.base_url}/admin/teams/t1",
        json={"alias": "x"},
        headers={"Authorization": f"Bearer {issued['key']}"},
    )
    assert refused.status_code == 403  # and the API refuses what the page does not offer
    for screen in SCREENS:
        open_screen(page, screen)
        page.wait_for_load_state("networkidle")
    assert watch.errors == [], watch.errors
    assert watch.failed == [], watch.failed
    assert [u for u in watch.urls if not u.startswith(gateway.base_url + "/")] == []
    page.close()


def test_a_wrong_key_is_refused_and_nothing_is_stored(browser: Any, gateway: GatewayProcess) -> None:
    page = browser.new_page()
    page.goto(f"{gateway.base_url}/ui")
    page.fill("#login-key", "sk-not-a-key")
    page.click("#login-submit")
    page.wait_for_selector("#login-error:has-text('not accepted')")
    sign_in(page, gateway.base_url, MASTER)
    stored = page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie]")
    assert stored == [0, 0, ""]
    page.reload()
    page.wait_for_selector("#login", state="visible")
    assert page.is_hidden("#shell")
    page.close()


def test_the_overview_counts_every_worker_of_the_node(browser: Any, tmp_path: Path) -> None:
    """Two workers answer the calls; whichever serves the overview shows the node's total."""
    env = {
        "ROUTEIQ_SECURITY__MASTER_KEY": MASTER,
        "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db"),
        "ROUTEIQ_SERVER__WORKERS": "2",
    }
    calls = 24
    with GatewayProcess(CONFIG, env=env, ready_timeout_s=60) as gw:
        body = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}
        for _ in range(calls):  # a new connection each: the kernel spreads them over the workers
            httpx.post(f"{gw.base_url}/v1/chat/completions", json=body, headers=ADMIN).raise_for_status()
        page = browser.new_page()
        watch = Watch(page)
        sign_in(page, gw.base_url, MASTER)
        for _ in range(40):  # workers publish their counters every second
            open_screen(page, "overview")
            page.wait_for_selector("#overview-cards")
            if (page.text_content("#overview-cards .stat .value") or "").strip() == str(calls):
                break
            open_screen(page, "system")
            page.wait_for_timeout(250)
        assert (page.text_content("#overview-cards .stat .value") or "").strip() == str(calls)
        assert watch.errors == [], watch.errors
        assert watch.failed == [], watch.failed
        page.close()
