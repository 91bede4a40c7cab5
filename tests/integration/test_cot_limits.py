"""The CoT listener's limits on real sockets: an event over ``max_event`` closes its
connection, idle and slow connections are closed after their (short, test-set) timeouts,
connections past the most allowed are refused, a connection over its byte budget is
paused (not cut off), oversized datagrams are dropped, and good events around garbage
still arrive. Each refusal is counted, and logged at most once per kind in a while.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import pytest

from hotline.domain.tracks import Track
from hotline.ingest.listener import Budgets, CotLimits, CotListener, QuietLog

DEADLINE_S = 20.0
SHORT = CotLimits(max_event=2048, budget=1 << 20, window=1.0, idle=0.5, slow=0.5, connections=3)


def event(uid: str, detail: str = "") -> bytes:
    return (
        f'<event version="2.0" uid="{uid}" type="a-h-A-M-F" time="2026-03-01T12:00:00Z" '
        f'start="2026-03-01T12:00:00Z" stale="2026-03-01T12:02:00Z" how="m-g">'
        f'<point lat="55.5" lon="19.25" hae="9144" ce="50" le="30"/>{detail}</event>'
    ).encode()


class Collected:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tracks: list[Track] = []

    def __call__(self, batch: Sequence[Track]) -> None:
        with self.lock:
            self.tracks.extend(batch)

    def uids(self) -> list[str]:
        with self.lock:
            return [t.uid for t in self.tracks]


def until(what: str, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def listen(limits: CotLimits) -> tuple[CotListener, Collected]:
    sink = Collected()
    listener = CotListener("127.0.0.1", 0, {"h": "RU"}, sink, batch=50, flush_s=0.02, limits=limits)
    listener.start()
    return listener, sink


@pytest.fixture
def short() -> Iterator[tuple[CotListener, Collected]]:
    listener, sink = listen(SHORT)
    try:
        yield listener, sink
    finally:
        listener.stop()


def connect(listener: CotListener) -> socket.socket:
    return socket.create_connection(("127.0.0.1", listener.port), timeout=DEADLINE_S)


def closed_by_server(conn: socket.socket) -> bool:
    """Read until the server closes the connection (True), or the deadline (False)."""
    try:
        while conn.recv(4096):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_an_event_over_the_limit_closes_the_connection(
    short: tuple[CotListener, Collected], caplog: pytest.LogCaptureFixture
) -> None:
    listener, sink = short
    too_large = event("RU-LARGE", "<detail>" + "x" * SHORT.max_event + "</detail>")
    with connect(listener) as conn:
        conn.sendall(event("RU-BEFORE") + too_large[:1000])
        until("the event before", lambda: sink.uids() == ["RU-BEFORE"])
        with caplog.at_level(logging.WARNING, "hotline.ingest"):
            with contextlib.suppress(ConnectionError):
                conn.sendall(too_large[1000:] + event("RU-AFTER"))
            assert closed_by_server(conn)
            until("the count", lambda: listener.counters.oversized == 1)
    assert sink.uids() == ["RU-BEFORE"]
    assert listener.counters.refused == 1
    assert "closed: an event larger than 2 KiB" in caplog.text


def test_an_idle_connection_is_closed_and_stray_bytes_do_not_keep_it_open(
    short: tuple[CotListener, Collected],
) -> None:
    listener, sink = short
    with connect(listener) as quiet, connect(listener) as chatty:
        quiet.sendall(event("RU-1"))
        until("the event", lambda: sink.uids() == ["RU-1"])
        started = time.monotonic()
        for _ in range(20):  # junk every 0.1 s: bytes, but no event
            chatty.sendall(b"\r\n")
            time.sleep(0.1)
            if listener.counters.idle == 2:
                break
        assert closed_by_server(quiet)
        assert closed_by_server(chatty)
        assert time.monotonic() - started < DEADLINE_S
    assert listener.counters.idle == 2


@pytest.fixture
def slow_only() -> Iterator[tuple[CotListener, Collected]]:
    """SHORT, but idle only long after an event is too slow: the idle time runs from the
    connection's start and the slow time from its first bytes, which a loaded machine
    may read a good while later."""
    listener, sink = listen(dataclasses.replace(SHORT, idle=10.0))
    try:
        yield listener, sink
    finally:
        listener.stop()


def test_an_event_sent_too_slowly_closes_the_connection(
    slow_only: tuple[CotListener, Collected],
) -> None:
    listener, sink = slow_only
    slow = event("RU-SLOW")
    with connect(listener) as conn:
        for i in range(0, len(slow), 20):  # 20 bytes every 0.1 s: never idle, too slow
            try:
                conn.sendall(slow[i : i + 20])
            except ConnectionError:
                break
            if listener.counters.slow:
                break
            time.sleep(0.1)
        assert closed_by_server(conn)
    assert listener.counters.slow == 1
    assert sink.uids() == []


def test_connections_past_the_most_allowed_are_refused(
    short: tuple[CotListener, Collected],
) -> None:
    listener, sink = short
    held = [connect(listener) for _ in range(SHORT.connections)]
    try:
        for n, conn in enumerate(held):
            conn.sendall(event(f"RU-{n}"))
        until("the held connections' events", lambda: len(sink.uids()) == len(held))
        with connect(listener) as extra:
            assert closed_by_server(extra)
        assert listener.counters.busy == 1
        held.pop().close()
        until("the slot to free", lambda: listener.open < SHORT.connections)
        with connect(listener) as again:
            again.sendall(event("RU-AGAIN"))
            until("the event on a freed slot", lambda: "RU-AGAIN" in sink.uids())
    finally:
        for conn in held:
            conn.close()


def test_a_connection_over_its_budget_is_paused_not_closed() -> None:
    limits = CotLimits(budget=4096, window=0.2, idle=30, slow=30)
    listener, sink = listen(limits)
    try:
        events = [event(f"RU-{n:03d}") for n in range(100)]
        data = b"".join(events)
        with connect(listener) as conn:
            conn.sendall(data)
            until("every event", lambda: len(sink.uids()) == len(events))
        # the listener read at most one budget per window
        assert listener.counters.throttled >= len(data) // limits.budget - 1
        assert listener.counters.refused == 0
    finally:
        listener.stop()


def test_good_events_around_garbage_on_four_connections() -> None:
    """The attack of the issue: repeated ``<event`` tokens and oversized events."""
    limits = CotLimits(max_event=65536, budget=1 << 30, idle=30, slow=30)
    listener, sink = listen(limits)
    garbage = b"<event" * 80_000 + b"<event><event/>" * 2000 + b"\x00\xff<" * 1000
    try:
        conns = [connect(listener) for _ in range(4)]
        for n, conn in enumerate(conns):
            conn.sendall(event(f"RU-A{n}") + garbage + event(f"RU-B{n}") + garbage)
        until("the good events", lambda: len(sink.uids()) == 8)
        for conn in conns:
            conn.close()
        until("the connections to end", lambda: listener.open == 0)
    finally:
        listener.stop()
    assert sorted(sink.uids()) == sorted(f"RU-{ab}{n}" for ab in "AB" for n in range(4))
    assert listener.counters.malformed == 4 * 2 * 2000  # the <event/> have no uid
    assert listener.counters.refused == 0


def test_datagrams_over_the_limit_are_dropped(short: tuple[CotListener, Collected]) -> None:
    listener, sink = short
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        address = ("127.0.0.1", listener.port)
        udp.sendto(event("RU-UDP-1"), address)
        udp.sendto(event("RU-UDP-LARGE", "<detail>" + "x" * SHORT.max_event + "</detail>"), address)
        udp.sendto(event("RU-UDP-2"), address)
        until("two events and a refusal", lambda: len(sink.uids()) == 2)
        until("the refusal", lambda: listener.counters.oversized == 1)
    assert sorted(sink.uids()) == ["RU-UDP-1", "RU-UDP-2"]


def test_datagrams_past_the_budget_wait_for_the_next_window() -> None:
    limits = CotLimits(budget=2048, window=0.3)
    listener, sink = listen(limits)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for n in range(30):
                udp.sendto(event(f"RU-{n}"), ("127.0.0.1", listener.port))
            until("a throttled window", lambda: listener.counters.throttled >= 1)
            until("some events", lambda: len(sink.uids()) >= 1)
    finally:
        listener.stop()
    # a window's budget is ~6 events; a datagram that came past it was dropped, counted
    assert len(sink.uids()) < 30
    assert listener.counters.dropped_bytes > 0


def test_malformed_events_are_logged_once_in_a_while(
    short: tuple[CotListener, Collected], caplog: pytest.LogCaptureFixture
) -> None:
    listener, _ = short
    with caplog.at_level(logging.WARNING, "hotline.ingest"), connect(listener) as conn:
        conn.sendall(b'<event uid="x"/>' * 500)
        until("the malformed events", lambda: listener.counters.malformed == 500)
    lines = [r for r in caplog.records if "malformed CoT event" in r.getMessage()]
    assert len(lines) == 1


def test_quiet_log_says_how_many_lines_it_held_back(caplog: pytest.LogCaptureFixture) -> None:
    moment = [0.0]
    quiet = QuietLog(every=10.0, clock=lambda: moment[0])
    with caplog.at_level(logging.WARNING, "hotline.ingest"):
        for n in range(5):
            quiet.warning("kind", "bad %d", n)
            quiet.warning("other", "other %d", n)
        moment[0] = 10.0
        quiet.warning("kind", "bad %d", 5)
    assert [r.getMessage() for r in caplog.records] == [
        "bad 0",
        "other 0",
        "bad 5 (and 4 more like it since)",
    ]


def test_budgets_per_sender_with_debt_paid_back_by_time() -> None:
    moment = [0.0]
    budgets = Budgets(budget=8192, window=1.0, clock=lambda: moment[0])
    assert budgets.available("10.0.0.1") == (8192, 0.0)
    budgets.charge("10.0.0.1", 8192 + 4096)  # read what was allowed, then parsed badly
    assert budgets.available("10.0.0.1") == (0, 1.0)  # 4096 of debt, then 4096 to read
    assert budgets.available("10.0.0.2") == (8192, 0.0)  # another sender: its own bucket
    moment[0] = 1.0
    assert budgets.available("10.0.0.1") == (4096, 0.0)
    budgets.prune()  # 10.0.0.1 is not full yet: remembered, so reconnecting does not help
    assert "10.0.0.1" in budgets.buckets and "10.0.0.2" not in budgets.buckets
    moment[0] = 5.0
    assert budgets.available("10.0.0.1") == (8192, 0.0)  # saved up one window at most
    budgets.prune()
    assert budgets.buckets == {}


def test_malformed_events_spend_the_budget_of_their_sender_on_every_connection() -> None:
    limits = CotLimits(budget=8192, window=0.5, idle=30, slow=30)
    listener, sink = listen(limits)
    try:
        with connect(listener) as bad:
            bad.sendall(b'<event uid="x"/>' * 4)  # 4 x 4 KiB: two windows of debt
            until("the malformed events", lambda: listener.counters.malformed == 4)
        with connect(listener) as again:  # the same address: the same, drained budget
            again.sendall(event("RU-LATE"))
            time.sleep(0.3)
            assert sink.uids() == []
            until("the debt to be paid and the event taken", lambda: sink.uids() == ["RU-LATE"])
        assert listener.counters.throttled >= 1
    finally:
        listener.stop()
