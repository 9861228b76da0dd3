"""Playwright (Python) in Debian's Chromium at a 390×844 phone viewport, against the real API + mock WeChat.

Needs /usr/bin/chromium and axe-core under .cache/npm (`make browser-deps` installs both). Without them the
tests skip with the reason — except in CI (CI=true), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.api.conftest import citizen, wechat, wechat_server  # noqa: F401  (mock WeChat in a thread)
from tests.e2e.conftest import own_stack, shared_servers, stack  # noqa: F401  (the real processes on loopback ports)
from tests.e2e.test_story_elderly_allowance import _person, _summary, _write
from tests.waiting import PLAYWRIGHT_TIMEOUT_MS

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("ZEROTRIP_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("ZEROTRIP_SCREENSHOTS")  # "1" → docs/screenshots/, or a directory


def _missing() -> str:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make browser-deps installs Debian's chromium)"
    if not AXE.exists():
        return f"{AXE.relative_to(ROOT)} is missing (make browser-deps installs axe-core from npm)"
    return ""


@pytest.fixture(scope="session")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Phone:
    """One person's phone: a browser context (own localStorage) at 390×844."""

    def __init__(self, browser, base: str, viewport=None, storage_state=None):
        # bypass_csp: only so that axe-core can be injected; the app itself runs under its CSP.
        self.context = browser.new_context(viewport=viewport or PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                           bypass_csp=True, device_scale_factor=1, storage_state=storage_state)
        self.context.set_default_timeout(PLAYWRIGHT_TIMEOUT_MS)  # 120 s: far beyond any step on a slow day
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, hash_: str = "#/home"):
        self.visit(f"{self.base}/m/{hash_}")

    def visit(self, url: str):
        """The page at `url`, drawn afresh: the address the page is already at is reloaded (going to it again
        changes nothing in the browser, and the page drawn before — its buttons included — would stay)."""
        if self.page.url == url:
            self.page.reload()
        else:
            self.page.goto(url)
        self.settle()

    def go(self, hash_: str):
        self.page.evaluate("h => { location.hash = h }", hash_)
        self.settle()

    def settle(self):
        """The screen of the current address is drawn (the app marks it), and what the drawing queued has run (an
        error box is filled by a timer). Not Playwright's "networkidle": it waits 500 ms after the last request
        on every navigation, a quarter of these tests' time."""
        self.page.wait_for_function("document.body.dataset.hash === location.hash && "
                                    "!document.getElementById('main').hasAttribute('aria-busy')")
        self.page.evaluate("() => new Promise(done => setTimeout(done))")

    def screen(self) -> str:
        return self.page.evaluate("document.body.dataset.screen || ''")

    def elder(self, on: bool):
        if self.page.evaluate("document.documentElement.classList.contains('elder')") != on:
            self.page.click("#elder-toggle")

    def keep_preference(self):
        """Toggling for a measurement must not look like the person's own choice: restore it afterwards."""
        saved = self.page.evaluate("localStorage.getItem('zt.elder')")
        was = self.page.evaluate("document.documentElement.classList.contains('elder')")

        def restore():
            self.elder(was)
            self.page.evaluate("v => v === null ? localStorage.removeItem('zt.elder') : "
                               "localStorage.setItem('zt.elder', v)", saved)

        return restore

    def close(self):
        assert not self.errors, self.errors
        self.context.close()


@pytest.fixture
def phone(browser, stack):  # noqa: F811
    opened: list[Phone] = []

    def make(viewport=None, storage_state=None) -> Phone:
        p = Phone(browser, stack.api, viewport, storage_state)
        opened.append(p)
        return p

    yield make
    for p in opened:
        p.close()


def axe(page, *, enhanced: bool = False) -> list[dict]:
    """Serious or critical axe-core violations on the page (with AAA contrast when `enhanced`)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    options = {"resultTypes": ["violations"]}
    if enhanced:
        options["rules"] = {"color-contrast-enhanced": {"enabled": True}}
    result = page.evaluate("o => axe.run(document, o)", options)
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")
            or (enhanced and v["id"] == "color-contrast-enhanced")]


def shoot(phone: Phone, name: str, tmp_path: Path | None = None) -> None:
    """Screenshot in normal and elderly mode (docs/screenshots/ when ZEROTRIP_SCREENSHOTS is set)."""
    if not SHOTS:
        return
    target = ROOT / "docs" / "screenshots" if SHOTS == "1" else Path(SHOTS)
    target.mkdir(parents=True, exist_ok=True)
    restore = phone.keep_preference()
    for mode, on in (("normal", False), ("elder", True)):
        phone.elder(on)
        phone.page.screenshot(path=str(target / f"{name}-{mode}.png"), full_page=True)
    restore()


def check_screen(phone: Phone, name: str) -> None:
    """Every screen: no serious/critical axe violation in either mode, one primary action, screenshots."""
    restore = phone.keep_preference()
    for on in (False, True):
        phone.elder(on)
        violations = axe(phone.page)
        assert violations == [], f"{name} ({'elder' if on else 'normal'}): {violations}"
    restore()
    primaries = phone.page.locator("main .btn.primary:visible").count()
    assert primaries <= 1, f"{name}: {primaries} primary actions"
    text = phone.page.inner_text("main")
    assert not re.search(r"Traceback|Exception|Error|error|undefined|null|NaN|\[object|request_id", text), \
        f"{name}: {text}"
    shoot(phone, name)


class City:
    """A tiny population imported and scanned through the CLI, as the e2e story does."""

    def __init__(self, stack, tmp_path):  # noqa: F811
        from flows.dates import today_shanghai

        self.stack, self.today = stack, today_shanghai()
        self.li = _person("李秀英", (self.today - timedelta(days=3)).replace(year=self.today.year - 80),
                          phone="13912345678")
        self.wang = _person("王建国", (self.today - timedelta(days=2)).replace(year=self.today.year - 80), sex="M",
                            phone="13812345678", household="H7")
        self.wang_daughter = _person("王丽", self.today.replace(year=self.today.year - 50), phone="13612345678",
                                     household="H8")
        self.young = _person("赵年轻", self.today.replace(year=self.today.year - 35), phone="13700000001",
                             household="H3")
        path = tmp_path / "population.csv"
        _write(path, [self.li, self.wang, self.wang_daughter, self.young])
        assert _summary(stack.cli("import", "population", str(path)))["rejected"] == "0"

    def scan(self):
        return _summary(self.stack.cli("scan", "elderly-allowance", "--as-of", self.today.isoformat()))

    def dispatch(self):
        return _summary(self.stack.cli("dispatch", "--once"))


@pytest.fixture
def city(stack, tmp_path):  # noqa: F811
    return City(stack, tmp_path)


def sign_in_and_bind(p: Phone, person: dict, check=None, start: str = "#/home") -> None:
    """The first visit: the development sign-in, then identity binding."""
    p.open(start)
    assert p.screen() == "login"
    assert "开发环境:模拟微信登录" in p.page.inner_text("main")
    if check:
        check(p, "login")
    p.page.click("main .btn.primary")
    p.page.wait_for_function("document.body.dataset.screen === 'bind'")
    p.settle()
    if check:
        check(p, "bind")
    p.page.fill("input[name=name]", person["name"])
    p.page.fill("input[name=id_number]", person["id_number"])
    p.page.fill("input[name=phone]", person["phone"])
    p.page.click("main button[type=submit]")
    p.page.wait_for_function("document.body.dataset.screen !== 'bind'")
    p.settle()
