"""The situation map in real headless Chromium (Debian's package, driven by Playwright),
against two real `hotline serve` processes: the basemap comes only from the node, the
map zooms and pans, tells the coordinates under the cursor in decimal and DMS, names
countries in the operator's language, draws each track as a MIL-STD-2525 symbol, and an
area drawn on it fills a notification of intent, which reaches the other side."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.proofs import verify_bundle
from tests.federation.test_console_browser import (  # noqa: F401 - fixtures
    browser,
    open_view,
    outside,
    passwords,
    russian,
    sign_in,
)
from tests.federation.test_processes import (  # noqa: F401 - fixtures
    ENV,
    HOTLINE,
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


def feed_tracks(pair: Pair, tmp_path: Path) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    feed = tmp_path / "tracks.csv"
    feed.write_text(
        "uid,party,kind,lat,lon,time,alt_m,speed_mps,course_deg\n"
        f"ru-su35,RU,aircraft,54.0,23.0,{now},9000,250,270\n"
        f"ru-cm01,RU,missile,50.2,24.0,{now},300,240,290\n"
        f"us-p8,US,aircraft,55.0,20.5,{now},9000,200,90\n",
        "utf-8",
    )
    for home in (pair.us.home, pair.ru.home):
        cli(home, "ingest", str(feed), "--format", "csv")


def committed(home: Path, uid: str) -> None:
    """Wait until the node has committed a minute of ``uid``'s positions as evidence (the
    minute they were captured in, a few seconds after it ends)."""
    deadline = time.monotonic() + 90
    while True:
        done = subprocess.run(
            [*HOTLINE, "--home", str(home), "proof", "export", "--track", uid, "-o", os.devnull],
            env=ENV,
            capture_output=True,
            check=False,
            timeout=60,
        )
        if done.returncode == 0:
            return
        assert time.monotonic() < deadline, done.stderr
        time.sleep(2)


def drawn_at(page: Any) -> tuple[float, float]:
    """Where the page draws the one track on the map: the middle of its opaque pixels (the
    page at its top, still: a smooth scroll would move the map under the mouse)."""
    page.evaluate("() => window.scrollTo({ top: 0, behavior: 'instant' })")
    page.wait_for_function("() => window.scrollY === 0")
    x, y = page.evaluate(
        """() => {
          const c = document.querySelector('#map canvas.track-canvas');
          const box = c.getBoundingClientRect();
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let sx = 0, sy = 0, n = 0;
          for (let i = 0; i < c.width * c.height; i++) {
            if (d[4 * i + 3] > 250) { sx += i % c.width; sy += Math.floor(i / c.width); n++; }
          }
          const k = c.width / box.width;
          return [box.left + sx / n / k, box.top + sy / n / k];
        }"""
    )
    return float(x), float(y)


def zoom_of(page: Any) -> float:
    return float(page.get_attribute("#map", "data-zoom") or "nan")


def test_the_map_zooms_pans_and_reads_in_the_operators_language(
    lab: Lab,  # noqa: F811
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    pair = lab.pair()
    passwords(pair)
    russian(pair)
    feed_tracks(pair, tmp_path)
    us = sign_in(browser, pair.us.url, US_DESK)
    open_view(us, "alerts")
    us.wait_for_selector("#map.leaflet-container[data-tracks='3']", timeout=20_000)
    tiles = [u for u in us.requests if "/api/v1/map/tiles/" in u]
    assert tiles, "the basemap comes in tiles from the node"
    assert outside(us, pair.us.url) == []
    # zoom with the buttons, pan by dragging
    before = zoom_of(us)
    us.click("#map .leaflet-control-zoom-in")
    us.wait_for_function(f"Number(document.querySelector('#map').dataset.zoom) > {before}")
    box = us.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    centre = us.evaluate("() => sessionStorage.getItem('hotline.map.view.map')")
    us.mouse.move(cx, cy)
    us.mouse.down()
    us.mouse.move(cx - 150, cy - 80, steps=8)
    us.mouse.up()
    us.wait_for_function(
        "c => sessionStorage.getItem('hotline.map.view.map') !== c", arg=centre, timeout=5000
    )
    # the coordinates under the cursor, decimal and DMS
    us.mouse.move(cx + 10, cy + 10, steps=3)
    us.wait_for_function("() => /°/.test(document.querySelector('#map .map-coords').textContent)")
    text = us.locator("#map .map-coords").inner_text()
    assert re.search(r"\d+\.\d{4}° [NS], \d+\.\d{4}° [EW]", text), text
    assert re.search(r"\d+°\d\d′\d\d″[NS] \d+°\d\d′\d\d″[EW]", text), text
    # the legend, the scale, the symbols drawn
    legend = us.locator("#map .map-legend").inner_text()
    assert "US track" in legend and "RU track" in legend and "border corridor" in legend
    assert re.search(r"\d+ k?m", us.locator("#map .leaflet-control-scale").inner_text())
    drawn = us.evaluate(
        """() => {
          const c = document.querySelector('#map canvas.track-canvas');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
          return n;
        }"""
    )
    assert drawn > 200, "the tracks' symbols are drawn"
    # a track clicked tells what it is
    ru = sign_in(browser, pair.ru.url, RU_DESK)
    open_view(ru, "alerts")
    ru.wait_for_selector("#map.leaflet-container[data-tracks='3']", timeout=20_000)
    ru.locator("#map .country-label span", has_text="Польша").first.wait_for(timeout=10_000)
    legend = ru.locator("#map .map-legend").inner_text()
    assert "Условные обозначения" in legend and "цель US" in legend
    ru_box = ru.locator("#map").bounding_box()
    # over the bare map (a card or a label may lie where the pointer first goes)
    for fx, fy in ((1 / 3, 1 / 3), (2 / 3, 2 / 3), (1 / 2, 3 / 4), (3 / 4, 1 / 4)):
        ru.mouse.move(
            ru_box["x"] + ru_box["width"] * fx, ru_box["y"] + ru_box["height"] * fy, steps=3
        )
        if "°" in ru.locator("#map .map-coords").inner_text():
            break
        ru.wait_for_timeout(500)
    ru.wait_for_function("() => /°/.test(document.querySelector('#map .map-coords').textContent)")
    assert re.search(r"с\. ш\.", ru.locator("#map .map-coords").inner_text())
    assert ru.get_attribute("#map .leaflet-control-zoom-in", "title") == "Приблизить"


def test_an_area_drawn_on_the_map_goes_out_in_a_notification(
    lab: Lab,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    pair = lab.pair()
    passwords(pair)
    us = sign_in(browser, pair.us.url, US_DESK)
    open_view(us, "notices")
    us.click("#notice-new")
    us.wait_for_selector("#area-map .leaflet-pm-toolbar")
    # what is typed is drawn
    us.check("input[name=area-mode][value=circle]")
    us.fill("input[name=centre]", "54.5, 19.8")
    us.fill("input[name=radius]", "25")
    us.wait_for_selector("#area-map path.leaflet-interactive")
    # a polygon drawn fills the points
    us.check("input[name=area-mode][value=polygon]")
    us.click("#area-map .leaflet-pm-icon-polygon")
    box = us.locator("#area-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # right of the centre: the tool's actions (finish, cancel) sit by the toolbar
    for dx, dy in ((20, 0), (180, 0), (180, 100), (20, 100)):
        us.mouse.move(x + dx, y + dy, steps=2)
        us.mouse.click(x + dx, y + dy)
        us.wait_for_timeout(150)
    us.mouse.move(x + 20, y, steps=2)
    us.mouse.click(x + 20, y)  # back on the first point: closed
    us.wait_for_function(
        "() => document.querySelector('textarea[name=points]')?.value.split('\\n').length === 4"
    )
    points = us.input_value("textarea[name=points]").splitlines()
    assert all(re.fullmatch(r"-?\d+(\.\d+)?, -?\d+(\.\d+)?", p) for p in points), points
    # the rest of the notification, then send
    start = datetime.now(UTC).replace(microsecond=0, second=0)
    start = start.replace(year=start.year + 1)
    us.fill("#notice-form-start", start.strftime("%Y-%m-%dT%H:%M"))
    us.fill("#notice-form-end", start.replace(hour=23, minute=59).strftime("%Y-%m-%dT%H:%M"))
    us.fill("#notice-form-units", "2 Iskander-M launchers")
    us.click("#notice-form button[type=submit]")
    deadline = time.monotonic() + 30
    while True:
        notices = pair.ru_node.notices.notices(None)
        if notices:
            break
        assert time.monotonic() < deadline, "the notification never reached RU"
        time.sleep(0.3)
    area = notices[0].current.content["area"]
    assert area["type"] == "Polygon" and len(area["coordinates"][0]) == 5
    assert area["coordinates"][0][0] == area["coordinates"][0][-1]


def test_a_track_drawn_by_us_is_shown_on_the_ru_map(
    lab: Lab,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    pair = lab.pair()
    passwords(pair)
    russian(pair)
    us = sign_in(browser, pair.us.url, US_DESK)
    open_view(us, "compose")
    us.select_option("#compose-line", LINE)
    us.select_option("#compose-kind", "incident")
    us.fill("#compose-subject", "Missile track near Yavoriv")
    us.fill("#compose-body", "The track we hold, attached.")
    us.click("#compose details.attach summary")
    us.wait_for_selector("#compose-attach-map .leaflet-pm-toolbar")
    us.locator("#compose-attach-map").scroll_into_view_if_needed()
    us.click("#compose-attach-map .leaflet-pm-icon-polyline")
    box = us.locator("#compose-attach-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((0, 0), (80, 20), (160, 60)):
        us.mouse.move(x + dx, y + dy, steps=2)
        us.mouse.click(x + dx, y + dy)
        us.wait_for_timeout(150)
    us.mouse.click(x + 160, y + 60)  # the last point again: finished
    us.locator("#compose-attach-attached", has_text="3 positions").wait_for(timeout=5000)
    us.fill("#compose-attach-name", "CM-01 track")
    us.click("#compose button[type=submit]")
    us.locator("#compose-status", has_text=LINE).wait_for(timeout=10_000)
    # RU reads it, in Russian, with the track on its map
    ru = sign_in(browser, pair.ru.url, RU_DESK)
    row = ru.locator("#inbox tbody tr", has_text="Missile track near Yavoriv")
    row.wait_for(timeout=30_000)
    row.locator("button.row-open").click()
    section = ru.locator("section.attachments")
    section.wait_for(timeout=10_000)
    assert "Приложения-карты" in section.inner_text()
    assert re.search(
        r"CM-01 track: маршрут, точек: 3, \d+ байт, SHA-256 [0-9a-f]{16}", section.inner_text()
    )
    ru.wait_for_selector("#attachment-map path.attachment", timeout=10_000)
    held = pair.ru_node.messages.inbox("RU", principal=RU_DESK)
    [attachment] = next(
        i.message.content["attachments"]
        for i in held
        if i.message.content["subject"] == "Missile track near Yavoriv"
    )
    assert attachment["kind"] == "track" and len(attachment["geometry"]["coordinates"]) == 3


def test_an_incident_replays_at_three_speeds(
    lab: Lab,  # noqa: F811
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    pair = lab.pair()
    passwords(pair)
    # ten minutes of a missile's track, a quarter of an hour ago, kept as history
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=15)
    rows = ["uid,party,kind,lat,lon,time,alt_m,speed_mps,course_deg"]
    for n in range(61):
        moment = (start + timedelta(seconds=10 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(
            f"ru-cm-01,RU,missile,{50.2 - n * 0.001:.4f},{24.3 - n * 0.02:.4f},{moment},300,240,270"
        )
    feed = tmp_path / "incident.csv"
    feed.write_text("\n".join(rows) + "\n", "utf-8")
    cli(pair.us.home, "ingest", str(feed), "--format", "csv")
    sent = cli(
        pair.us.home,
        *("send", "--line", LINE, "--as", US_DESK, "--precedence", "FLASH"),
        *("--subject", "Missile track west of Lviv", "--body", "Whose is it?"),
    ).stdout.split()[3]  # sent FLASH free <id> on ...
    us = sign_in(browser, pair.us.url, US_DESK)
    open_view(us, "alerts")
    us.wait_for_selector("#map.leaflet-container[data-tracks='1']", timeout=20_000)
    us.fill("#replay-from", (start - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    us.fill("#replay-to", (start + timedelta(minutes=17)).strftime("%Y-%m-%dT%H:%M"))
    us.click("#replay-load")
    us.locator("#replay-status", has_text="61 positions of 1 track.").wait_for(timeout=10_000)
    assert "every 5 s" in us.inner_text("#replay-status")  # a longer window is thinned
    # the message sent in the window is on the timeline, and a click goes to its moment
    moment = us.locator(".replay-events li[data-kind=message]", has_text="Missile track west")
    moment.wait_for(timeout=5000)
    moment.locator("button").click()
    assert us.inner_text("#replay-time").split()[0] == moment.locator("button").inner_text()
    # the incident exports as an archive with the proof of its message
    us.select_option("#replay-format", "zip")
    with us.expect_download(timeout=20_000) as got:
        us.click("#replay-export")
    archive = zipfile.ZipFile(io.BytesIO(Path(got.value.path()).read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["counts"]["positions"] == 61 and any(
        i.startswith(sent) for i in manifest["proven"]
    )
    assert {"incident.geojson", "incident.kml", "incident.cot", "proof.json"} <= set(
        archive.namelist()
    )
    us.locator("#replay-saved", has_text="Saved incident-").wait_for(timeout=5000)
    us.click("#replay-load")  # again: back to the window's start
    us.locator(
        "#replay-time", has_text=(start - timedelta(minutes=1)).strftime("%H:%M:00")
    ).wait_for(timeout=10_000)
    # the replay starts a minute before the track appears: nothing on the map
    us.wait_for_selector("#map[data-tracks='0']", timeout=5000)

    def seconds() -> int:
        h, m, s = us.inner_text("#replay-time").split()[0].split(":")
        return int(h) * 3600 + int(m) * 60 + int(s)

    for speed, low in (("1", 1), ("10", 8), ("60", 40)):
        us.select_option("#replay-speed", speed)
        before = seconds()
        us.click("#replay-play")
        us.wait_for_timeout(1500)
        us.click("#replay-play")  # pause
        us.locator("#replay-play", has_text="Play").wait_for(timeout=5000)
        moved = seconds() - before
        us.wait_for_timeout(300)
        assert seconds() - before == moved  # paused: the moment stays
        assert low <= moved <= int(speed) * 3, (speed, moved)
    # at its moment the missile is drawn, with its trail (played on until then: how far
    # the three short plays got depends on how often the browser gave frames)
    if us.get_attribute("#map", "data-tracks") != "1":
        us.select_option("#replay-speed", "60")
        us.click("#replay-play")
        us.wait_for_selector("#map[data-tracks='1']", timeout=30_000)
        us.click("#replay-play")
        us.locator("#replay-play", has_text="Play").wait_for(timeout=5000)
    drawn = us.get_attribute("#map", "data-tracks")
    assert drawn == "1", (us.inner_text("#replay-time"), start, drawn)
    # clicked, it offers the proof of its positions: held as evidence, checked offline
    committed(pair.us.home, "ru-cm-01")  # its minute is over: the node commits it
    x, y = drawn_at(us)
    us.mouse.click(x, y)
    button = us.locator("#map .track-card button.track-proof")
    button.wait_for(timeout=5000)
    with us.expect_download(timeout=20_000) as got:
        button.click()
    report = verify_bundle(Path(got.value.path()).read_bytes())
    assert report.positions and {p.record["uid"] for p in report.positions} == {"ru-cm-01"}
    us.click("#replay-stop")
    us.wait_for_selector("#map[data-tracks='1']", timeout=10_000)  # live again
    # a replay in the console's address loads by itself, over the area it names
    since = (start - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (start + timedelta(minutes=11)).strftime("%Y-%m-%dT%H:%M:%SZ")
    us.goto(f"{pair.us.url}/console/#/alerts/{since}/{until}/23,49,25,51")
    us.locator("#replay-status", has_text="61 positions of 1 track.").wait_for(timeout=20_000)
    us.wait_for_selector(".replay[data-first-frame-ms]", timeout=10_000)
    assert us.input_value("#replay-from") == (start - timedelta(minutes=1)).strftime(
        "%Y-%m-%dT%H:%M"
    )
