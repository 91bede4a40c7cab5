"""The operator console in real headless Chromium (Debian's package, driven by
Playwright), against two real `hotline serve` processes: the US node speaks English, the
RU node Russian. A FLASH composed on the US console reaches the RU console live, counts
down on the node's clock, is acknowledged there with the keyboard alone, and the US
console shows who did. Sign-out and an ended session leave nothing of the desk on screen
and close the stream. axe-core finds no violation on any view in either language.

A screenshot of each console is written to docs/ when HOTLINE_SCREENSHOT is set.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.federation.test_processes import (  # noqa: F401 - fixtures
    LINE,
    RU_DESK,
    US_DESK,
    Lab,
    Pair,
    cli,
    lab,
    templates,
)

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "hotline" / "web" / "static"
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SUBJECT = "Missile test launch at 12:00Z"
WATCH_VIEWS = ("inbox", "compose", "sent", "alerts")

#: Records every EventSource the page opens (so a test can see that none stays open),
#: every notification it raises and every tone it plays.
TRACK_STREAMS = """
(() => {
  const Native = window.EventSource;
  window.__streams = [];
  window.EventSource = class extends Native {
    constructor(...args) { super(...args); window.__streams.push(this); }
  };
  window.__notes = [];
  if (window.Notification) {
    const Note = window.Notification;
    window.Notification = class extends Note {
      constructor(title, options) { super(title, options); window.__notes.push(title); }
      static get permission() { return Note.permission; }
      static requestPermission(...a) { return Note.requestPermission(...a); }
    };
  }
  window.__tones = 0;
  const osc = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__tones += 1;
    return osc.call(this);
  };
})();
"""

try:
    import playwright.sync_api as playwright_sync
except ImportError:  # pragma: no cover - the test extras install it
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("playwright (test extras) is not installed", allow_module_level=True)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed")
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


def open_console(browser: Any, url: str, width: int = 1280) -> Any:
    """A fresh browser context on the node's console (notifications allowed); every
    request is recorded."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.grant_permissions(["notifications"], origin=url)
    page = context.new_page()
    page.add_init_script(TRACK_STREAMS)
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(url + "/console/")
    page.wait_for_selector("#sign-in")
    return page


def sign_in(browser: Any, url: str, principal: str, width: int = 1280) -> Any:
    page = open_console(browser, url, width)
    page.fill("#sign-in-principal", principal)
    page.fill("#sign-in-password", PASSWORD)
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#main[data-view] h1")
    return page


def outside(page: Any, url: str) -> list[str]:
    """Requests that left the node (a CDN, a font service): there must be none."""
    return [u for u in page.requests if not u.startswith(url)]


def axe_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.x A/AA violations on the page as it is now."""
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{AXE} is missing: .ci/run runs npm ci in console/")
        pytest.skip("console/node_modules is not installed (npm ci)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
          const r = await axe.run(document, {
            runOnly: { type: 'tag',
                       values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
            resultTypes: ['violations'],
          });
          return r.violations.map(v => v.id + ': ' + v.help + ' -- ' +
            v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }"""
    )
    return list(found)


def axe_clean(page: Any, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{where}: {violations}"


def open_view(page: Any, view: str) -> None:
    page.click(f"#nav-{view}")
    page.wait_for_selector(f"#main[data-view={view}] h1")


def passwords(pair: Pair) -> None:
    cli(pair.us.home, "principal", "set-password", US_DESK, "--password", PASSWORD)
    cli(pair.ru.home, "principal", "set-password", RU_DESK, "--password", PASSWORD)


def russian(pair: Pair) -> None:
    """The RU node speaks Russian (its `language` setting)."""
    pair.ru.stop(signal.SIGTERM)
    pair.ru.env["HOTLINE_LANGUAGE"] = "ru"
    pair.ru.restart()


def send_flash(page: Any) -> None:
    open_view(page, "compose")
    page.select_option("#compose-line", LINE)
    page.select_option("#compose-kind", "notification")
    page.select_option("#compose-precedence", "FLASH")
    page.fill("#compose-subject", SUBJECT)
    page.fill("#compose-body", "Launch from Vandenberg. Not directed at you.")
    page.click("#compose button[type=submit]")
    page.locator("#compose-status", has_text=LINE).wait_for(timeout=10_000)


def tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches ``selector`` (the keyboard alone)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_flash_crosses_consoles_and_is_acknowledged_with_the_keyboard(
    lab: Lab,  # noqa: F811
    browser: Any,
) -> None:
    pair = lab.pair()
    passwords(pair)
    russian(pair)
    us = sign_in(browser, pair.us.url, US_DESK)
    ru = sign_in(browser, pair.ru.url, RU_DESK)
    assert us.evaluate("document.documentElement.lang") == "en"
    assert ru.evaluate("document.documentElement.lang") == "ru"
    assert ru.locator("#nav-inbox").inner_text() == "Входящие"
    assert us.locator("#nav-inbox").inner_text() == "Inbox"
    ru.locator("#live.ok").wait_for(timeout=10_000)  # listening before anything is sent

    send_flash(us)

    row = ru.locator("#inbox tbody tr.flash", has_text=SUBJECT)
    row.wait_for(timeout=10_000)
    assert row.locator("td.prec").inner_text() == "МОЛНИЯ"
    left = row.locator("td.left")
    first = left.inner_text()
    assert re.fullmatch(r"9 мин \d\d с|10 мин 00 с", first), first
    ru.wait_for_timeout(1500)
    assert left.inner_text() != first  # the countdown runs without a reload
    # a FLASH raises the alarm: a generated tone and a notification, in Russian
    assert ru.evaluate("window.__tones") > 0
    assert "МОЛНИЯ от US/EUCOM-JOC" in ru.evaluate("window.__notes")

    # the keyboard alone: Tab to the message, Enter opens it, `a` acknowledges it
    ru.locator("#nav-inbox").focus()
    tab_to(ru, "#inbox tbody tr.flash button.row-open")
    ru.keyboard.press("Enter")
    ru.locator("#reader .original", has_text=SUBJECT).wait_for(timeout=5000)
    assert ru.evaluate("document.activeElement.id") == "reader-title"
    assert "Оригинал" in ru.locator("#reader").inner_text()
    ru.keyboard.press("a")
    ru.locator("#inbox tbody tr.acked", has_text=SUBJECT).wait_for(timeout=10_000)
    assert "подтвердил RU/NDMC" in ru.locator("#inbox tbody tr.acked td.left").inner_text()

    open_view(us, "sent")
    acked = us.locator("#sent tbody tr", has_text=SUBJECT).locator("td.ack")
    acked.filter(has_text="acknowledged by RU/NDMC").wait_for(timeout=20_000)
    assert re.search(r"\d\d:\d\d:\d\d UTC", acked.inner_text()), acked.inner_text()
    assert not re.search(r"\d{4}-\d\d-\d\dT", us.locator("body").inner_text())  # no raw ISO
    assert outside(us, pair.us.url) == [] and outside(ru, pair.ru.url) == []


def test_every_view_passes_axe_in_english_and_russian(lab: Lab, browser: Any) -> None:  # noqa: F811
    pair = lab.pair()
    passwords(pair)
    russian(pair)
    cli(
        pair.us.home,
        *("send", "--line", LINE, "--as", US_DESK, "--precedence", "FLASH"),
        *("--subject", SUBJECT, "--body", "Not directed at you."),
    )
    for url, desk, lang in ((pair.us.url, US_DESK, "en"), (pair.ru.url, RU_DESK, "ru")):
        page = open_console(browser, url, width=1024)
        page.wait_for_function(f"document.documentElement.lang === '{lang}'")  # the node's
        assert page.locator("#sign-in-title").inner_text() == {"en": "Sign in", "ru": "Вход"}[lang]
        axe_clean(page, f"sign-in ({lang})")
        page.fill("#sign-in-principal", desk)
        page.fill("#sign-in-password", PASSWORD)
        page.click("#sign-in button[type=submit]")
        page.wait_for_selector("#main[data-view] h1")
        assert page.evaluate("document.documentElement.lang") == lang
        views = page.eval_on_selector_all(".desk-nav a", "as => as.map(a => a.id.slice(4))")
        assert set(WATCH_VIEWS) <= set(views), views
        for view in WATCH_VIEWS:  # the other desks' views: tests/federation/test_console_desks.py
            open_view(page, view)
            page.wait_for_timeout(300)  # its data has arrived
            axe_clean(page, f"{view} ({lang})")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1024, f"{view} ({lang}) is {width} px wide at 1024"
        if lang == "ru":  # a message open in the reader, with its acknowledgement form
            open_view(page, "inbox")
            page.locator("#inbox tbody tr.flash button.row-open").first.click()
            page.wait_for_selector("#ack-form")
            axe_clean(page, f"reader ({lang})")
            page.click("td.act button")  # silence the FLASH's alarm: a modal dialog
            page.wait_for_selector("dialog[open]")
            axe_clean(page, f"silence dialog ({lang})")
            page.keyboard.press("Escape")
            assert page.locator("dialog[open]").count() == 0
        page.context.close()


def desk_left_on_screen(page: Any) -> list[str]:
    """What of a signed-in desk is still in the DOM (nothing, after a session ends)."""
    return page.evaluate(
        """() => ['#who', '#main[data-view]', '.desk-nav', '#inbox', '#reader', '#sent',
                  '#compose', '#map', '#health', '#ack-form', 'dialog']
                 .filter(s => document.querySelector(s) !== null)"""
    )


def open_streams(page: Any) -> int:
    return int(page.evaluate("window.__streams.filter(s => s.readyState !== 2).length"))


def test_sign_out_leaves_nothing_on_screen_and_closes_the_stream(
    lab: Lab,  # noqa: F811
    browser: Any,
) -> None:
    pair = lab.pair()
    passwords(pair)
    cli(
        pair.us.home,
        *("send", "--line", LINE, "--as", US_DESK, "--precedence", "IMMEDIATE"),
        *("--subject", "Naval exercise in the Baltic", "--body", "From 06:00Z."),
    )
    ru = sign_in(browser, pair.ru.url, RU_DESK)
    row = ru.locator("#inbox tbody tr", has_text="Naval exercise")
    row.wait_for(timeout=20_000)
    row.locator("button.row-open").click()
    ru.fill("#ack-reply", "Understood, half-typed reply")
    assert open_streams(ru) == 1

    ru.click("#sign-out")
    ru.wait_for_selector("#sign-in")
    assert desk_left_on_screen(ru) == []
    text = ru.locator("body").inner_text()
    assert "Naval exercise" not in text and "half-typed" not in text
    assert ru.input_value("#sign-in-password") == ""
    assert ru.input_value("#sign-in-principal") == ""
    assert open_streams(ru) == 0
    assert "#/" not in ru.url  # not even the opened message's address

    asked = len(ru.requests)
    cli(
        pair.us.home,
        *("send", "--line", LINE, "--as", US_DESK, "--precedence", "FLASH"),
        *("--subject", "Sent after sign-out", "--body", "Nobody should see this here."),
    )
    ru.wait_for_timeout(3000)
    assert "Sent after sign-out" not in ru.locator("body").inner_text()
    assert [u for u in ru.requests[asked:] if "/api/v1/" in u] == []
    assert desk_left_on_screen(ru) == []


def test_an_ended_session_clears_the_desk(lab: Lab, browser: Any) -> None:  # noqa: F811
    pair = lab.pair()
    passwords(pair)
    us = sign_in(browser, pair.us.url, US_DESK)
    open_view(us, "compose")
    us.fill("#compose-subject", "Draft that must not survive")
    token = next(c["value"] for c in us.context.cookies() if c["name"] == "hotline_session")
    # the session ends on the node (as when it expires or is revoked elsewhere)
    answer = httpx.post(
        pair.us.url + "/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    # the next call (or the stream's session-ended) finds the session gone
    open_view_or_signed_out(us)
    us.wait_for_selector("#sign-in", timeout=15_000)
    assert desk_left_on_screen(us) == []
    assert "Draft that must not survive" not in us.locator("body").inner_text()
    assert us.locator("#sign-in [role=status]").inner_text() != ""  # says the session ended
    assert open_streams(us) == 0


def test_the_operator_chooses_the_language(lab: Lab, browser: Any) -> None:  # noqa: F811
    pair = lab.pair()
    passwords(pair)
    us = sign_in(browser, pair.us.url, US_DESK)
    assert us.evaluate("document.documentElement.lang") == "en"
    us.select_option("select[name=language]", "ru")
    us.wait_for_function("document.documentElement.lang === 'ru'")
    assert us.locator("#nav-inbox").inner_text() == "Входящие"
    assert "оперативный дежурный" in us.locator("#who").inner_text()
    us.click("#sign-out")
    us.wait_for_selector("#sign-in")
    again = sign_in(browser, pair.us.url, US_DESK)  # the choice is the user's, kept by the node
    again.wait_for_function("document.documentElement.lang === 'ru'")
    assert again.locator("#nav-inbox").inner_text() == "Входящие"


def open_view_or_signed_out(page: Any) -> None:
    """Open another view, unless the desk has already gone (the stream said so first,
    perhaps between looking for the view and clicking it)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    if page.locator("#nav-sent").count():
        try:
            page.click("#nav-sent", timeout=5000)
        except PlaywrightTimeout:
            assert page.locator("#nav-sent").count() == 0  # gone: signed out meanwhile


def test_an_alert_on_the_map_becomes_a_draft_and_is_sent(
    lab: Lab,  # noqa: F811
    browser: Any,
    tmp_path: Path,
) -> None:
    pair = lab.pair()
    passwords(pair)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    feed = tmp_path / "tracks.csv"
    feed.write_text(
        "uid,party,kind,lat,lon,time,alt_m,speed_mps,course_deg\n"
        f"ru-su35,RU,aircraft,54.0,23.0,{now},9000,250,270\n"
        f"us-p8,US,aircraft,55.0,20.5,{now},9000,200,90\n",
        "utf-8",
    )
    cli(pair.us.home, "ingest", str(feed), "--format", "csv")
    cli(pair.us.home, "alerts", "evaluate")
    us = sign_in(browser, pair.us.url, US_DESK)
    open_view(us, "alerts")
    alert = us.locator("#alerts li", has_text="us-p8")
    alert.first.wait_for(timeout=10_000)
    us.locator("#map .alert-marker").first.wait_for(timeout=10_000)
    assert any("/api/v1/map/tiles/" in u for u in us.requests)  # the node's own basemap
    # an alert clicked on the map offers its draft, as the list does
    us.locator("#map .alert-marker").last.click()  # the topmost: alerts on one track overlap
    us.locator("#map .alert-card button", has_text="Draft a message").click()
    draft = us.locator("#draft")
    draft.filter(has_text=f"Draft on {LINE}").wait_for(timeout=5000)
    assert us.input_value("#draft-form-subject") != ""
    assert us.input_value("#draft-form-kind") == "notification"
    subject = us.input_value("#draft-form-subject")
    us.click("#draft-form button[type=submit]")
    us.locator("#draft-form-status", has_text=LINE).wait_for(timeout=10_000)
    us.wait_for_timeout(1000)
    maps = len([u for u in us.requests if u.endswith("/api/v1/map")])
    us.wait_for_timeout(11_000)  # the tracks are read again every 5 s, no more
    assert len([u for u in us.requests if u.endswith("/api/v1/map")]) - maps <= 3
    ru_inbox = pair.ru_node.messages.inbox("RU", principal=RU_DESK)
    deadline = time.monotonic() + 30
    while not any(i.message.content["subject"] == subject for i in ru_inbox):
        assert time.monotonic() < deadline, "the drafted message never reached RU"
        time.sleep(0.3)
        ru_inbox = pair.ru_node.messages.inbox("RU", principal=RU_DESK)
    assert outside(us, pair.us.url) == []
    if os.environ.get("HOTLINE_SCREENSHOT"):  # the pictures in the README
        screenshots(pair, browser)


def screenshots(pair: Pair, browser: Any) -> None:
    """Each side's console with a message from the other open in the reader: US in
    English, RU in Russian (docs/console.png, docs/console-ru.png)."""
    russian(pair)
    cli(
        pair.ru.home,
        *("send", "--line", LINE, "--as", RU_DESK, "--kind", "query", "--precedence", "FLASH"),
        *("--subject", "Aircraft near Kaliningrad"),
        *("--body", "A US aircraft is 1.4 km from our border. Explain its purpose."),
    )
    cli(
        pair.us.home,
        *("send", "--line", LINE, "--as", US_DESK, "--kind", "notification"),
        *("--precedence", "IMMEDIATE", "--subject", "Naval exercise in the Baltic"),
        *("--body", "From 06:00Z to 18:00Z, 40 km west of Klaipeda. Not directed at you."),
    )
    for url, desk, subject, name in (
        (pair.us.url, US_DESK, "Aircraft near Kaliningrad", "console.png"),
        (pair.ru.url, RU_DESK, "Naval exercise in the Baltic", "console-ru.png"),
    ):
        page = sign_in(browser, url, desk)
        row = page.locator("#inbox tbody tr", has_text=subject)
        row.wait_for(timeout=30_000)
        row.locator("button.row-open").click()
        page.wait_for_selector("#ack-form")
        page.evaluate("document.activeElement.blur()")  # no focus ring in the picture
        page.screenshot(path=str(ROOT / "docs" / name), full_page=True)


def test_a_pre_agreed_message_from_the_console(lab: Lab, browser: Any) -> None:  # noqa: F811
    pair = lab.pair()
    passwords(pair)
    russian(pair)
    for server in (pair.us, pair.ru):
        cli(server.home, "catalogue", "import", "starter")
        cli(server.home, "catalogue", "adopt", LINE, "starter")
    deadline = time.monotonic() + 60
    for home in (pair.us.home, pair.ru.home):  # each node holds both adoptions
        while "in force" not in cli(home, "catalogue", "status", LINE).stdout:
            assert time.monotonic() < deadline, "the adoptions never crossed"
            time.sleep(0.2)
    us = sign_in(browser, pair.us.url, US_DESK)
    ru = sign_in(browser, pair.ru.url, RU_DESK)
    open_view(us, "compose")
    us.wait_for_selector("#coded-entry option", state="attached")
    olive = us.locator("#coded-entry option", has_text="OLIVE 1").first
    us.select_option("#coded-entry", olive.get_attribute("value"))
    us.fill("#coded-slot-activity", "air patrol")
    us.click("#coded button[type=submit]")
    us.locator("#coded-status", has_text="OLIVE 1").wait_for(timeout=5000)
    row = ru.locator("#inbox tbody tr", has_text="OLIVE 1")
    row.wait_for(timeout=30_000)
    row.locator("button.row-open").click()
    reader = ru.locator("#reader")
    reader.locator(".block", has_text="Согласованный текст").wait_for(timeout=5000)
    assert "air patrol" in reader.inner_text()
    assert outside(us, pair.us.url) == [] and outside(ru, pair.ru.url) == []


def test_no_asset_of_the_console_comes_from_outside() -> None:
    files = [p for p in STATIC.rglob("*") if p.is_file()]
    assert any(p.suffix == ".js" for p in files) and (STATIC / "index.html").exists()
    for path in files:
        text = path.read_text("utf-8")
        # a link the operator may follow is not a load (Leaflet's own credit, which the
        # map does not show, is one); anything a page would fetch by itself is
        assert not re.search(r"(?<!<a )(src|href)=\"(https?:)?//", text), path.name
        assert not re.search(r"url\((['\"])?(https?:)?//", text), path.name
        assert not re.search(r"import\((['\"])(https?:)?//", text), path.name
    assert shutil.which("chromium") or not os.environ.get("CI")
