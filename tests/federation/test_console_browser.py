"""The operator console in real headless Chromium (Debian's package, driven by
Playwright), against two real `hotline serve` processes: a FLASH sent on the US console
reaches the RU console without a reload, with a countdown; RU acknowledges; the US
console shows who did. And an alert on the map turns into a draft. A screenshot of the
US console is written to docs/console.png when HOTLINE_SCREENSHOT is set.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.federation.test_processes import (  # noqa: F401 - fixtures
    LINE,
    RU_DESK,
    US_DESK,
    Lab,
    cli,
    lab,
    templates,
)

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[2]

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
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield launched
        finally:
            launched.close()


def sign_in(browser: Any, url: str, principal: str) -> Any:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(url) else None,
    )
    page.goto(url + "/console/")
    page.fill("#login-form input[name=principal]", principal)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button")
    page.wait_for_selector("#console:not([hidden])")
    page.outside = outside  # every request stays on the node: nothing from a CDN
    return page


def test_a_flash_crosses_consoles_live_and_its_ack_comes_back(lab: Lab, browser: Any) -> None:  # noqa: F811
    pair = lab.pair()
    cli(pair.us.home, "principal", "set-password", US_DESK, "--password", PASSWORD)
    cli(pair.ru.home, "principal", "set-password", RU_DESK, "--password", PASSWORD)
    us = sign_in(browser, pair.us.url, US_DESK)
    ru = sign_in(browser, pair.ru.url, RU_DESK)
    ru.wait_for_timeout(500)  # the RU console is open and listening before anything is sent

    us.select_option("#compose select[name=line]", LINE)
    us.select_option("#compose select[name=kind]", "notification")
    us.select_option("#compose select[name=precedence]", "FLASH")
    us.fill("#compose input[name=subject]", "Missile test launch at 12:00Z")
    us.fill("#compose textarea[name=body]", "Launch from Vandenberg. Not directed at you.")
    sent_at = time.monotonic()
    us.click("#compose button[type=submit]")

    row = ru.locator("#inbox tbody tr.flash", has_text="Missile test launch")
    row.wait_for(timeout=5000)
    arrived = time.monotonic() - sent_at
    assert arrived < 1.5, f"took {arrived:.2f} s to reach the RU console"
    left = row.locator("td.left")
    first = left.inner_text()
    assert re.fullmatch(r"9m \d\ds|10m 00s", first), first
    ru.wait_for_timeout(1200)
    assert left.inner_text() != first  # the countdown runs without a reload

    ru.keyboard.press("a")  # the keyboard: acknowledge the selected message
    ru.locator("#inbox tbody tr.acked", has_text="Missile test launch").wait_for(timeout=5000)

    acked = us.locator("#sent tbody tr", has_text="Missile test launch").locator("td.ack")
    deadline = time.monotonic() + 20
    while "acked by RU/NDMC" not in acked.inner_text():
        assert time.monotonic() < deadline, acked.inner_text()
        us.wait_for_timeout(200)
    assert us.outside == [] and ru.outside == []


def test_an_alert_on_the_map_becomes_a_draft(lab: Lab, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    pair = lab.pair()
    cli(pair.us.home, "principal", "set-password", US_DESK, "--password", PASSWORD)
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
    alert = us.locator("#alerts li", has_text="us-p8")
    alert.first.wait_for(timeout=10_000)
    assert us.locator("#map circle.alert").count() >= 1
    assert us.locator("#map path.border").count() >= 1  # the node's own border data
    alert.first.click()
    us.locator("#draft", has_text="draft on us-ru-deconfliction").wait_for(timeout=5000)
    assert "notification" in us.locator("#draft").inner_text()
    assert us.outside == []
    if os.environ.get("HOTLINE_SCREENSHOT"):  # the picture in the README
        cli(
            pair.ru.home,
            "send",
            "--line",
            LINE,
            "--as",
            RU_DESK,
            "--kind",
            "query",
            "--precedence",
            "FLASH",
            "--subject",
            "Aircraft near Kaliningrad",
            "--body",
            "A US aircraft is 1.4 km from our border. Explain its purpose.",
        )
        us.locator("#inbox tbody tr.flash").wait_for(timeout=20_000)
        us.screenshot(path=str(ROOT / "docs" / "console.png"), full_page=True)


def test_no_asset_of_the_console_comes_from_outside() -> None:
    static = ROOT / "src" / "hotline" / "web" / "static"
    for path in static.iterdir():
        text = path.read_text("utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path.name
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), path.name
        assert "https://" not in text, path.name
    assert shutil.which("chromium") or not os.environ.get("CI")


def test_a_pre_agreed_message_from_the_console(lab: Lab, browser: Any) -> None:  # noqa: F811
    pair = lab.pair()
    for server, party in ((pair.us, "US"), (pair.ru, "RU")):
        cli(
            server.home,
            "principal",
            "set-password",
            US_DESK if party == "US" else RU_DESK,
            "--password",
            PASSWORD,
        )
        cli(server.home, "catalogue", "import", "starter")
        cli(server.home, "catalogue", "adopt", LINE, "starter")
    deadline = time.monotonic() + 60
    for home in (pair.us.home, pair.ru.home):  # each node holds both adoptions
        while "in force" not in cli(home, "catalogue", "status", LINE).stdout:
            assert time.monotonic() < deadline, "the adoptions never crossed"
            time.sleep(0.2)
    us = sign_in(browser, pair.us.url, US_DESK)
    ru = sign_in(browser, pair.ru.url, RU_DESK)
    us.click("#coded-panel summary")
    us.wait_for_selector("#coded select[name=entry] option", state="attached")
    olive = us.locator("#coded select[name=entry] option", has_text="OLIVE 1").first
    us.select_option("#coded select[name=entry]", olive.get_attribute("value"))
    us.fill("#coded input[name=slot-activity]", "air patrol")
    us.click("#coded button[type=submit]")
    us.locator("#coded-status", has_text="sent OLIVE 1").wait_for(timeout=5000)
    row = ru.locator("#inbox tbody tr", has_text="OLIVE 1")
    row.wait_for(timeout=30_000)
    row.click()
    ru.locator("#reader", has_text="The air patrol now under way is not directed at you.").wait_for(
        timeout=5000
    )
    assert us.outside == [] and ru.outside == []
