"""The dashboard in a real headless Chromium against a real `routeiq serve` with the mock provider.

Signs in with the master key, creates a key and chats with it in the playground (a streamed answer),
finds the call in the request log and its spend, rotates and revokes the key and sees the next call
refused, pages through a viewer's keys, and
checks that a viewer cannot create keys; no console errors and no request to any other origin.
Screenshots of every screen are saved under a temp dir (printed with ``-s``).

Needs the machine's Chromium (``apt-get install -y chromium``; ``make test`` installs it as root):
skipped with the reason when it is missing, failed when ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

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
resilience: {{num_retries: 0}}
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
    keys = str(tmp_path_factory.mktemp("dashboard") / "keys.db")
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": keys}
    with GatewayProcess(CONFIG, env=env) as gw:
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


def test_admin_flow_from_sign_in_to_revocation(
    browser: Any, gateway: GatewayProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots = tmp_path_factory.mktemp("dashboard-screens")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    watch = Watch(page)
    sign_in(page, gateway.base_url, MASTER)
    assert page.text_content("#who") == "admin (admin)"

    open_screen(page, "keys")
    page.fill("#key-alias", "playground")
    page.select_option("#key-role", "member")
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

    open_screen(page, "keys")
    row = page.locator("#key-list tr", has_text=key_id)
    row.locator("[data-action=edit]").click()
    page.fill("#key-edit-models", "demo, other-*")
    page.fill("#key-edit input[name=rpm]", "60")
    page.click("#key-edit-submit")
    page.wait_for_selector("#key-status >> text=Saved")
    edited = f"#key-list tr:has-text('{key_id}'):has-text('demo, other-*')"
    page.wait_for_selector(f"{edited}:has-text('requests_per_minute 60')")
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

    for screen in SCREENS:
        open_screen(page, screen)
        page.wait_for_load_state("networkidle")
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
