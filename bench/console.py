"""Console benchmark: two real nodes (US, RU) as `hotline serve` processes on loopback,
and the operator console in Debian's headless Chromium (Playwright).

Prints figures; asserts nothing.

    .venv/bin/python bench/console.py [--sends 50] [--loads 5] [--streams 200]
                                      [--idle-seconds 30] [--quick]

Figures (targets of issue 16):
- FLASH across consoles: the US desk sends a FLASH through the console's compose form
  until the RU desk's console shows it in its inbox; ``--sends`` of them, one at a time.
  Timed inside the browsers: ``performance.timeOrigin + performance.now()`` when the US
  page's compose form fires ``submit`` (the click), and when a MutationObserver on the RU
  page first finds the message's row in the inbox. p50 <= 100 ms, p99 <= 250 ms.
- first load: a fresh browser context opens /console/; time from navigation start until
  the sign-in form is usable (inputs and button present and enabled), median of
  ``--loads``; and the bytes the browser received (encoded bodies, as sent with its own
  Accept-Encoding) to that point and through sign-in to the desk's first view, map data
  and the live stream apart. Every asset is fetched again with ``Accept-Encoding: gzip``
  to give the compressed size independently. <= 1 s, <= 300 KB.
- idle streams: ``--streams`` signed-in clients hold /api/v1/stream open on the US node;
  once they settle, the server process's CPU (utime + stime of it and its children, from
  /proc) over ``--idle-seconds``, as % of one core; the same before the streams opened,
  for comparison. Then one message, and how many streams delivered it, how fast. <= 5 %.

``--quick`` is a short trial run (5 sends, 2 loads, 20 streams, 5 s idle).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

LINE = "us-ru-deconfliction"
US_DESK = "US/EUCOM-JOC"
RU_DESK = "RU/NDMC"
PASSWORD = "correct horse battery staple"
CHROMIUM = "/usr/bin/chromium"
HOTLINE = [sys.executable, "-m", "hotline"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}  # defaults
TICK = os.sysconf("SC_CLK_TCK")

#: On the sending page: the time of each submit of the compose form, and of each answer
#: the form shows ("sent ... on <line>").
STAMP_SUBMITS = """
(line) => {
  window.__submits = [];
  window.__answered = [];
  document.addEventListener('submit', (e) => {
    if (e.target && e.target.id === 'compose')
      window.__submits.push(performance.timeOrigin + performance.now());
  }, true);
  let last = null;
  new MutationObserver(() => {
    const text = document.getElementById('compose-status')?.textContent || '';
    if (text.includes(line) && text !== last) {
      last = text;
      window.__answered.push(performance.timeOrigin + performance.now());
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}
"""

#: On the receiving page, before its scripts: when the stream first delivers each
#: "bench-N" message (a listener that runs before the console's own).
WATCH_STREAM = """
(() => {
  window.__streamed = {};
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (m) => {
        const at = performance.timeOrigin + performance.now();
        const r = /bench-(\\d+)/.exec(m.data || '');
        if (r && !(r[1] in window.__streamed)) window.__streamed[r[1]] = at;
      });
    }
  };
})();
"""

#: On the receiving page: when each "bench-N" row first appears in the inbox.
WATCH_INBOX = """
() => {
  window.__seen = {};
  const scan = () => {
    const at = performance.timeOrigin + performance.now();
    for (const b of document.querySelectorAll('#inbox tbody tr button.row-open')) {
      const m = /bench-(\\d+)/.exec(b.textContent || '');
      if (m && !(m[1] in window.__seen)) window.__seen[m[1]] = at;
    }
  };
  new MutationObserver(scan).observe(document.body,
    { childList: true, subtree: true, characterData: true });
  scan();
}
"""

#: Before any script of the page: the moment the sign-in form becomes usable.
WATCH_SIGN_IN = """
(() => {
  const usable = () => {
    const p = document.getElementById('sign-in-principal');
    const w = document.getElementById('sign-in-password');
    const b = document.querySelector('#sign-in button[type=submit]');
    return p && w && b && !p.disabled && !w.disabled && !b.disabled;
  };
  const seen = new MutationObserver(() => {
    if (window.__interactive === undefined && usable()) {
      window.__interactive = performance.now();
      seen.disconnect();
    }
  });
  seen.observe(document, { childList: true, subtree: true, attributes: true });
})();
"""


# -- nodes ------------------------------------------------------------------------------


def free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


def cli(home: Path, *args: str) -> str:
    done = subprocess.run(
        [*HOTLINE, "--home", str(home), *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"hotline {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Server:
    party: str
    home: Path
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*HOTLINE, "--home", str(self.home), "serve", "--listen", f"127.0.0.1:{self.port}"],
            env={**ENV, **self.env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.party} exited {self.proc.returncode}\n{self.tail()}")
            with suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise SystemExit(f"{self.party} did not start\n{self.tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.log is not None:
            self.log.close()
            self.log = None

    def tail(self) -> str:
        try:
            lines = self.log_path.read_text("utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return f"--- {self.party} log (tail):\n" + "\n".join(lines[-30:])


def wait_until(what: str, check: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.2)


def line_status(home: Path) -> str | None:
    for line in json.loads(cli(home, "line", "list", "--json")):
        if line.get("id") == LINE:
            return str(line.get("status"))
    return None


def set_up_pair(root: Path, servers: list[Server]) -> tuple[Server, Server]:
    """US and RU initialised, peered, serving (RU in Russian), sharing an active line."""
    taken: set[int] = set()
    us = Server("US", root / "us", free_port(taken), root / "us.log")
    ru = Server("RU", root / "ru", free_port(taken), root / "ru.log", {"HOTLINE_LANGUAGE": "ru"})
    for server, desk in ((us, US_DESK), (ru, RU_DESK)):
        cli(server.home, "init", "--party", server.party)
        cli(server.home, "principal", "add", desk, "--role", "watch_officer")
        cli(server.home, "principal", "set-password", desk, "--password", PASSWORD)
        bundle = root / f"{server.party.lower()}.json"
        cli(server.home, "peer", "export", "--url", server.url, "--out", str(bundle))
    cli(us.home, "peer", "import", str(root / "ru.json"), "--yes")
    cli(ru.home, "peer", "import", str(root / "us.json"), "--yes")
    for server in (us, ru):
        servers.append(server)
        server.start()
    us.wait_ready()
    ru.wait_ready()
    member = ("--member", US_DESK, "--member", RU_DESK)
    cli(us.home, "line", "create", LINE, "--kind", "deconfliction", *member)
    wait_until("RU to receive the proposed line", lambda: line_status(ru.home) is not None)
    cli(ru.home, "line", "accept", LINE, "--party", "RU")
    wait_until("the line to be active on US", lambda: line_status(us.home) == "active")
    return us, ru


def sign_in_token(url: str, principal: str) -> str:
    answer = httpx.post(
        url + "/api/v1/auth/login",
        json={"principal": principal, "password": PASSWORD},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


# -- figures ----------------------------------------------------------------------------


def rank(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def quantiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {rank(values, 0.5):.0f} ms, p90 {rank(values, 0.9):.0f} ms, "
        f"p99 {rank(values, 0.99):.0f} ms, max {max(values):.0f} ms ({len(values)} samples)"
    )


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its descendants, in seconds."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    family, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in family} - family
        grew = bool(more)
        family |= more
    return sum(ticks.get(p, 0) for p in family) / TICK


def cpu_percent(pid: int, seconds: float) -> float:
    before, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - before) / (time.monotonic() - start)


# -- browsers ---------------------------------------------------------------------------


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
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
            yield browser
        finally:
            browser.close()


def signed_in_page(browser: Any, url: str, desk: str, init: str | None = None) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["notifications"], origin=url)
    page = context.new_page()
    if init:
        page.add_init_script(init)
    page.goto(url + "/console/")
    page.wait_for_selector("#sign-in")
    page.fill("#sign-in-principal", desk)
    page.fill("#sign-in-password", PASSWORD)
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#main[data-view] h1", timeout=30_000)
    return page


@dataclass
class Crossing:
    """Milliseconds from each counted submit on US to: US's answer shown in its form, the
    RU page's stream delivering the message, the RU inbox showing it."""

    answered: list[float] = field(default_factory=list)
    streamed: list[float] = field(default_factory=list)
    shown: list[float] = field(default_factory=list)
    misses: int = 0


def flash_latency(browser: Any, us: Server, ru: Server, sends: int) -> Crossing | None:
    """FLASH from the US console's compose form until the RU console's inbox shows it."""
    us_page = signed_in_page(browser, us.url, US_DESK)
    ru_page = signed_in_page(browser, ru.url, RU_DESK, init=WATCH_STREAM)
    try:
        try:
            ru_page.locator("#live.ok").wait_for(timeout=15_000)
        except Exception:
            print("  FLASH: the RU console's live stream did not connect in 15 s; not measured")
            return None
        visibility = {
            "US": us_page.evaluate("document.visibilityState"),
            "RU": ru_page.evaluate("document.visibilityState"),
        }
        us_page.click("#nav-compose")
        us_page.wait_for_selector("#main[data-view=compose] h1")
        us_page.wait_for_selector(f"#compose-line option[value='{LINE}']", state="attached")
        us_page.evaluate(STAMP_SUBMITS, LINE)
        ru_page.evaluate(WATCH_INBOX)
        crossing = Crossing()
        for n in range(sends + 1):  # the first is a warm-up, not counted
            us_page.select_option("#compose-line", LINE)
            us_page.select_option("#compose-kind", "notification")
            us_page.select_option("#compose-precedence", "FLASH")
            us_page.fill("#compose-subject", f"bench-{n} Missile test launch")
            us_page.fill("#compose-body", "Launch from Vandenberg. Not directed at you.")
            us_page.click("#compose button[type=submit]")
            try:
                ru_page.wait_for_function(
                    "n => n in window.__seen", arg=str(n), polling=20, timeout=10_000
                )
            except Exception:
                crossing.misses += 1
                if crossing.misses >= 3 and not crossing.shown:
                    print("  FLASH: three sends never reached the RU inbox; stopped")
                    return None
            # the form has its answer and is reset before the next is typed
            try:
                us_page.wait_for_function(
                    "n => window.__answered.length > n &&"
                    " document.getElementById('compose-subject').value === '' &&"
                    " !document.querySelector('#compose button[type=submit]').disabled",
                    arg=n,
                    timeout=10_000,
                )
            except Exception:
                status = us_page.locator("#compose-status").inner_text()
                print(f"  FLASH: send {n} got no answer in 10 s ({status!r}); stopped")
                return crossing if crossing.shown else None
            submitted, answered = us_page.evaluate(
                "n => [window.__submits[n], window.__answered[n]]", n
            )
            streamed, seen = ru_page.evaluate(
                "n => [window.__streamed[n] ?? null, window.__seen[n] ?? null]", str(n)
            )
            if n and submitted is not None:
                for into, at in (
                    (crossing.answered, answered),
                    (crossing.streamed, streamed),
                    (crossing.shown, seen),
                ):
                    if at is not None:
                        into.append(at - submitted)
            us_page.wait_for_timeout(100)
        print(
            f"  pages: US {visibility['US']}, RU {visibility['RU']}; "
            f"{crossing.misses} of {sends + 1} sends not shown within 10 s (the first is a "
            f"warm-up, not counted)"
        )
        return crossing
    finally:
        us_page.context.close()
        ru_page.context.close()


@dataclass
class Asset:
    method: str
    url: str
    encoded: int  # the body as received (Content-Encoding applied)
    decoded: int
    encoding: str


@dataclass
class Load:
    interactive_ms: float
    dom_ms: float
    sign_in_bytes: int
    desk_bytes: int | None
    assets: list[Asset]


def excluded(url: str) -> bool:
    """Map data and the live stream are not part of the first load's weight."""
    path = httpx.URL(url).path
    return path.startswith("/api/v1/map") or path == "/api/v1/stream"


def first_load(browser: Any, url: str, sign_in: bool) -> Load:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.add_init_script(WATCH_SIGN_IN)
        finished: list[Any] = []
        page.on("requestfinished", lambda request: finished.append(request))
        page.goto(url + "/console/", wait_until="commit")
        page.wait_for_function("window.__interactive !== undefined", polling=20, timeout=30_000)
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)  # anything the sign-in screen fetches late
        interactive = float(page.evaluate("window.__interactive"))
        dom = float(
            page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
        )
        before = len(finished)
        if sign_in:
            page.fill("#sign-in-principal", US_DESK)
            page.fill("#sign-in-password", PASSWORD)
            page.click("#sign-in button[type=submit]")
            page.wait_for_selector("#main[data-view] h1", timeout=30_000)
            page.wait_for_timeout(2000)  # the desk's first view and its data
        assets: list[Asset] = []
        sign_in_bytes = 0
        for index, request in enumerate(finished):
            if excluded(request.url):
                continue
            encoded = int(request.sizes()["responseBodySize"])
            response = request.response()
            decoded, encoding = 0, "-"
            if response is not None:
                with suppress(Exception):  # a redirect has no body
                    decoded = len(response.body())
                encoding = response.headers.get("content-encoding", "") or "-"
            assets.append(Asset(request.method, request.url, encoded, decoded, encoding))
            if index < before:
                sign_in_bytes += encoded
        desk_bytes = sum(a.encoded for a in assets) if sign_in else None
        return Load(interactive, dom, sign_in_bytes, desk_bytes, assets)
    finally:
        context.close()


def gzip_sizes(assets: list[Asset], token: str) -> tuple[int, int]:
    """Each GET fetched again with ``Accept-Encoding: gzip``: bytes on the wire (bodies)
    and how many of the answers were gzip-encoded."""
    total, gzipped = 0, 0
    headers = {"Accept-Encoding": "gzip", "Authorization": f"Bearer {token}"}
    with httpx.Client(headers=headers, timeout=30) as client:
        for asset in assets:
            if asset.method != "GET":
                total += asset.encoded
                continue
            with client.stream("GET", asset.url) as answer:
                for _ in answer.iter_raw():
                    pass
                total += answer.num_bytes_downloaded
                gzipped += answer.headers.get("content-encoding") == "gzip"
    return total, gzipped


def kb(n: float) -> str:
    return f"{n / 1024:.1f} KB"


def report_loads(loads: list[Load], us: Server) -> tuple[float, int]:
    times = [load.interactive_ms for load in loads]
    median = statistics.median(times)
    print(
        f"  time to interactive (sign-in form usable, from navigation start): "
        f"median {median:.0f} ms of {len(times)} fresh contexts "
        f"({', '.join(f'{t:.0f}' for t in times)} ms); DOMContentLoaded median "
        f"{statistics.median(load.dom_ms for load in loads):.0f} ms"
    )
    last = loads[-1]
    print("  bytes received by the browser (encoded bodies, map data and stream apart):")
    print(f"    to the sign-in form: {kb(last.sign_in_bytes)}")
    if last.desk_bytes is not None:
        print(f"    through sign-in to the desk's first view: {kb(last.desk_bytes)}")
    gz, gzipped = gzip_sizes(last.assets, sign_in_token(us.url, US_DESK))
    gets = sum(a.method == "GET" for a in last.assets)
    print(
        f"    the same {len(last.assets)} answers fetched again with Accept-Encoding: gzip: "
        f"{kb(gz)} ({gzipped} of {gets} GETs gzip-encoded); uncompressed "
        f"{kb(sum(a.decoded for a in last.assets))}"
    )
    for asset in sorted(last.assets, key=lambda a: -a.decoded)[:6]:
        path = httpx.URL(asset.url).path
        print(
            f"      {asset.method} {path}: {kb(asset.encoded)} received "
            f"({asset.encoding}), {kb(asset.decoded)} decoded"
        )
    return median, last.desk_bytes if last.desk_bytes is not None else last.sign_in_bytes


# -- idle streams -----------------------------------------------------------------------


@dataclass
class Streams:
    count: int
    status: dict[int, int] = field(default_factory=dict)
    received: dict[int, int] = field(default_factory=dict)
    probe_at: dict[int, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    probe: str = "fanout-probe"


async def hold_streams(
    url: str, tokens: list[str], streams: Streams, stop: asyncio.Event, opened: asyncio.Event
) -> None:
    limits = httpx.Limits(max_connections=streams.count + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(30, read=None)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as client:

        async def one(i: int) -> None:
            headers = {
                "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                "Accept": "text/event-stream",
            }
            try:
                async with client.stream("GET", "/api/v1/stream", headers=headers) as answer:
                    streams.status[i] = answer.status_code
                    if len(streams.status) == streams.count:
                        opened.set()
                    if answer.status_code != 200:
                        body = (await answer.aread())[:200].decode(errors="replace")
                        streams.failures.append(f"{answer.status_code} {body}")
                        return
                    tail = ""
                    async for chunk in answer.aiter_text():
                        streams.received[i] = streams.received.get(i, 0) + len(chunk)
                        if i not in streams.probe_at and streams.probe in tail + chunk:
                            streams.probe_at[i] = time.perf_counter()
                        tail = chunk[-64:]
            except (httpx.HTTPError, OSError) as exc:
                streams.status.setdefault(i, 0)
                streams.failures.append(repr(exc))
                if len(streams.status) == streams.count:
                    opened.set()

        tasks = [asyncio.create_task(one(i)) for i in range(streams.count)]
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def idle_streams(us: Server, count: int, idle: float) -> float | None:
    """CPU of the US server with ``count`` open streams, after they settle."""
    assert us.proc is not None
    pid = us.proc.pid
    sessions = min(count, 20)
    started = time.perf_counter()
    tokens = [sign_in_token(us.url, US_DESK) for _ in range(sessions)]
    per_login = (time.perf_counter() - started) / sessions * 1000
    time.sleep(2)
    baseline = cpu_percent(pid, idle)
    print(f"  no stream open: {baseline:.1f} % of a core over {idle:g} s")

    streams = Streams(count)
    result: list[float | None] = [None]

    async def run() -> None:
        stop, opened = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hold_streams(us.url, tokens, streams, stop, opened))
        with suppress(TimeoutError):
            await asyncio.wait_for(opened.wait(), 120)
        ok = sum(1 for s in streams.status.values() if s == 200)
        print(
            f"  {count} streams over {sessions} signed-in sessions "
            f"(sign-in {per_login:.0f} ms each): {ok} answered 200"
        )
        for failure in sorted(set(streams.failures))[:3]:
            print(f"    refused: {failure}")
        if ok:
            await asyncio.sleep(5)  # settle
            got_before = sum(streams.received.values())
            busy = await asyncio.to_thread(cpu_percent, pid, idle)
            result[0] = busy
            got = sum(streams.received.values()) - got_before
            print(
                f"  {ok} streams open: {busy:.1f} % of a core over {idle:g} s "
                f"({busy - baseline:+.1f} points; the clients received {got:,} bytes "
                f"meanwhile)"
            )
            sent = time.perf_counter()
            await asyncio.to_thread(send_probe, us, tokens[0], streams.probe)
            deadline = time.perf_counter() + 10
            while len(streams.probe_at) < ok and time.perf_counter() < deadline:
                await asyncio.sleep(0.02)
            delays = [(t - sent) * 1000 for t in streams.probe_at.values()]
            print(
                f"  one message sent on US (POST /api/v1/messages): on {len(delays)} of {ok} "
                f"streams after "
                f"{quantiles(delays)}"
            )
        stop.set()
        await holder

    asyncio.run(run())
    return result[0]


def send_probe(us: Server, token: str, subject: str) -> None:
    """One ROUTINE message from the US desk, through the API."""
    answer = httpx.post(
        us.url + "/api/v1/messages",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "line": LINE,
            "kind": "notification",
            "precedence": "ROUTINE",
            "subject": subject,
            "body": "One message to every open stream.",
        },
        timeout=30,
    )
    answer.raise_for_status()


# -- main -------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sends", type=int, default=50, help="FLASHes across consoles")
    parser.add_argument("--loads", type=int, default=5, help="fresh first loads")
    parser.add_argument("--streams", type=int, default=200, help="open streams on one node")
    parser.add_argument("--idle-seconds", type=float, default=30, help="CPU measured over")
    parser.add_argument("--quick", action="store_true", help="a short trial run")
    args = parser.parse_args()
    if args.quick:
        args.sends, args.loads = min(args.sends, 5), min(args.loads, 2)
        args.streams, args.idle_seconds = min(args.streams, 20), min(args.idle_seconds, 5)

    print(
        f"hotline console benchmark - Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}; load average at start {loadavg()}"
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on SIGTERM too
    root = Path(tempfile.mkdtemp(prefix="hotline-consolebench-"))
    servers: list[Server] = []
    summary: list[str] = []
    try:
        us, ru = set_up_pair(root, servers)
        print(f"two nodes on loopback: US {us.url} (English), RU {ru.url} (Russian)")
        browsing = Path(CHROMIUM).exists()
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            browsing = False
        if not browsing:
            print("browser figures skipped: playwright or /usr/bin/chromium is missing")
        else:
            with chromium() as browser:
                print(
                    f"FLASH from the US console's compose form to the RU console's inbox, "
                    f"{args.sends} sends (browser timestamps: performance.timeOrigin + "
                    f"performance.now() at the form's submit on US, MutationObserver on RU's "
                    f"inbox):"
                )
                crossing = flash_latency(browser, us, ru, args.sends)
                if crossing and crossing.shown:
                    latencies = crossing.shown
                    print(f"  submit -> US form shows the answer: {quantiles(crossing.answered)}")
                    print(
                        f"  submit -> RU page's stream delivers it: {quantiles(crossing.streamed)}"
                    )
                    print(f"  submit -> RU inbox shows it: {quantiles(latencies)}")
                    p50, p99 = rank(latencies, 0.5), rank(latencies, 0.99)
                    summary.append(
                        f"FLASH across consoles p50 {p50:.0f} ms (<= 100), p99 {p99:.0f} ms "
                        f"(<= 250): {verdict(p50 <= 100 and p99 <= 250)}"
                    )
                else:
                    summary.append("FLASH across consoles: NOT MEASURED")
                print(f"first load of the console on US (fresh contexts, {args.loads}):")
                loads = [
                    first_load(browser, us.url, sign_in=n == args.loads - 1)
                    for n in range(args.loads)
                ]
                median, weight = report_loads(loads, us)
                met = median <= 1000 and weight <= 300 * 1024
                summary.append(
                    f"first load: interactive {median:.0f} ms (<= 1000), {kb(weight)} "
                    f"received (<= 300 KB): {verdict(met)}"
                )
        print(f"idle streams on US ({args.streams}):")
        cpu = idle_streams(us, args.streams, args.idle_seconds)
        if cpu is None:
            summary.append(f"{args.streams} idle streams: NOT MEASURED (no stream opened)")
        else:
            summary.append(
                f"{args.streams} idle streams: {cpu:.1f} % of a core (<= 5): {verdict(cpu <= 5)}"
            )
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    for line in summary:
        print(f"summary: {line}")
    print(f"load average at end {loadavg()}")


if __name__ == "__main__":
    main()
