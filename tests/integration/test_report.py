"""The after-action report of an exercise, on each database: the figures gathered from a
small exercise of known timings, the findings, the page and its file; and the arithmetic
on its own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.app import Node, node_record
from hotline.domain.alerting import Alert, AlertState, Changes
from hotline.domain.errors import NotFound, RequestRefused
from hotline.domain.events import EventKind
from hotline.domain.linktest import PathResult, linktest_content
from hotline.domain.message import MessageDraft
from hotline.domain.policy import LineKind, MessageKind
from hotline.domain.precedence import Precedence
from hotline.domain.tracks import TrackKind
from hotline.exercise.findings import findings
from hotline.exercise.plots import bars, say
from hotline.exercise.report import (
    EscalationCount,
    ExerciseFigures,
    Outage,
    Tally,
    gather,
    link_peer,
    outages,
    percentile,
    render_html,
    write_report,
)
from hotline.exercise.words import Words
from tests.conftest import FakeClock

LINE = "us-ru-deconfliction"
RELAY = "us-ru-attache"
LEADERS = "us-ru-leaders"
SERVICE = "us-ru-service"
JOC, NDMC, MINDEF = "US/EUCOM-JOC", "RU/NDMC", "RU/MINDEF"
T0 = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)  # the exercise's first event
SVG_NAMESPACES = (
    'xmlns="http://www.w3.org/2000/svg"',
    'xmlns:xlink="http://www.w3.org/1999/xlink"',
)


def draft(
    precedence: Precedence, subject: str, exercise: str | None = "ex-1", alert: str | None = None
) -> MessageDraft:
    return MessageDraft(
        MessageKind.NOTIFICATION,
        precedence,
        subject,
        "Over the sea.",
        exercise=exercise,
        alert=alert,
    )


def linktest(node: Node, *paths_ok: bool) -> None:
    """A link test by US of RU's paths, recorded as the federation worker records it."""
    state = node.store.line(SERVICE)
    paths = [
        PathResult(f"https://ru-{i}.example:8443", ok, 12.5 if ok else None, None if ok else "x")
        for i, ok in enumerate(paths_ok)
    ]
    with node.store.write() as tx:
        node.writer.append(
            tx,
            state.line,
            EventKind.LINKTEST,
            "US",
            linktest_content("RU", 1, paths),
            hosted=frozenset({"US"}),
        )


def awareness_alert(node: Node, uid: str, opened: datetime) -> str:
    alert = Alert(
        key=f"proximity:{uid}:RU",
        rule="proximity",
        severity="high",
        state=AlertState.OPEN,
        uid=uid,
        party="US",
        other="RU",
        band=30000.0,
        value=25000.0,
        kind=TrackKind.AIRCRAFT,
        lat=55.0,
        lon=20.0,
        opened_at=opened,
        updated_at=opened,
    )
    (stored,) = node.awareness.picture.save(Changes(opened=[alert]))
    return str(stored.id)


def rejection(node: Node, at: datetime) -> None:
    node.peers.record_rejection(
        at=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        peer="RU",
        kind="push",
        refused=RequestRefused("bad signature", "event 7 of RU on us-ru-deconfliction"),
        line=LINE,
    )


@dataclass(frozen=True)
class Played:
    node: Node
    ids: dict[str, str]


@pytest.fixture
def played(lab_node: Node, clock: FakeClock) -> Played:
    """Exercise ex-1, from 12:05 (T0) to 12:50 (T0+45):

    - FLASH "Track 1" acknowledged after 4 min; drafted from an alert opened at 12:03
    - IMMEDIATE "Track 2" acknowledged after 45 min (deadline 30): resend, then stop
    - FLASH "Track 3" never acknowledged: two rounds of resend, relay, alert (skipped:
      US has no leader)
    - ROUTINE unmarked, ROUTINE of ex-2, a contact request unmarked: not counted
    - a call request declined after 5 min, one left to expire (window 20 min)
    - link tests: a failed one before the span; up, down, down, degraded, up in it; one
      after it
    - a federation rejection in the span and one before; an alert opened in the span
    """
    node, ids = lab_node, {}
    node.directory.add_principal("US/SECDEF", "SecDef", ["watch_officer"])
    node.lines.propose(
        line_id=LEADERS, kind=LineKind.LEADERS, title="leaders", members=[JOC, MINDEF]
    )
    node.lines.accept(LEADERS, "RU")
    node.lines.propose(line_id=SERVICE, kind=LineKind.SERVICE, title="service", members=[JOC, NDMC])
    node.lines.accept(SERVICE, "RU")
    linktest(node, False)  # 12:00, before the exercise
    rejection(node, T0 - timedelta(hours=1))
    clock.advance(minutes=3)
    ids["alert"] = awareness_alert(node, "T1", clock.now())  # 12:03
    clock.advance(minutes=2)
    assert clock.now() == T0
    send = node.messages.send
    ids["a"] = send(LINE, JOC, draft(Precedence.FLASH, "Track 1", alert=ids["alert"])).id
    ids["b"] = send(LINE, JOC, draft(Precedence.IMMEDIATE, "Track 2 <b>east</b> & co")).id
    ids["c"] = send(LINE, JOC, draft(Precedence.FLASH, "Track 3")).id
    ids["d"] = send(LINE, JOC, draft(Precedence.ROUTINE, "Unmarked", exercise=None)).id
    ids["e"] = send(LINE, JOC, draft(Precedence.ROUTINE, "Other", exercise="ex-2")).id
    window = timedelta(minutes=20)
    ask = node.contacts.request
    ids["r1"] = ask(JOC, MINDEF, "Call 1", line=LEADERS, window=window, exercise="ex-1").id
    ids["r2"] = ask(JOC, MINDEF, "Call 2", line=LEADERS, window=window, exercise="ex-1").id
    ids["r3"] = ask(JOC, MINDEF, "Live call", line=LEADERS, window=window).id
    linktest(node, True)  # T0
    clock.advance(minutes=4)
    node.messages.ack(ids["a"], NDMC)  # T0+4
    clock.advance(minutes=1)
    node.contacts.decline(ids["r1"], MINDEF, "minister travelling")  # T0+5
    clock.advance(minutes=5)
    assert [e.content["action"] for e in node.escalations.tick()] == ["resend"]  # T0+10
    linktest(node, False, False)
    clock.advance(minutes=5)
    assert [e.content["action"] for e in node.escalations.tick()] == ["relay"]  # T0+15
    clock.advance(minutes=5)
    done = node.escalations.tick()  # T0+20: C's alert (skipped), R2 and R3 expire
    assert sorted(e.kind for e in done) == ["contact.expire", "contact.expire", "escalation"]
    linktest(node, False, False)
    clock.advance(minutes=5)
    awareness_alert(node, "T2", clock.now())  # T0+25, not drafted
    clock.advance(minutes=5)
    assert sorted(e.content["ref"] for e in node.escalations.tick()) == sorted(
        [ids["b"], ids["c"]]
    )  # T0+30: B's resend, C's second round
    linktest(node, True, False)  # degraded counts as up: a path answered
    clock.advance(minutes=10)
    rejection(node, clock.now())  # T0+40
    linktest(node, True, True)
    clock.advance(minutes=5)
    node.messages.ack(ids["b"], NDMC)  # T0+45
    actions = sorted(e.content["action"] for e in node.escalations.tick())
    assert actions == ["alert", "relay", "stop"]  # C's relay and alert, B's stop
    clock.advance(minutes=5)
    linktest(node, True)  # T0+50: after the span
    awareness_alert(node, "T3", clock.now())  # after the span
    return Played(node, ids)


def test_the_figures_of_an_exercise(played: Played) -> None:
    f = gather(node_record(played.node), "ex-1")
    ids = played.ids
    assert (f.exercise, f.party) == ("ex-1", "US")
    assert (f.start, f.end) == (T0, T0 + timedelta(minutes=45))
    assert [m.id for m in f.messages] == [ids["a"], ids["b"], ids["c"]]  # D and E: not ex-1
    a, b, c = f.messages
    assert (a.seconds_to_ack, a.seconds_late, a.acked_by) == (240, None, NDMC)
    assert (b.seconds_to_ack, b.seconds_late) == (2700, 900)
    assert b.deadline == T0 + timedelta(minutes=30)
    assert (c.acked_at, c.seconds_to_ack) == (None, None)
    assert [(s.action, s.done) for s in c.steps] == [
        ("resend", True),
        ("relay", True),
        ("alert", False),
        ("resend", True),
        ("relay", True),
        ("alert", False),
    ]
    assert {s.line for s in c.steps if s.action == "relay"} == {RELAY}
    assert [s.action for s in b.steps] == ["resend", "stop"]
    assert f.by_precedence == (
        Tally("FLASH", 2, 1, 0, 1, 240, 240, 240, 4),
        Tally("IMMEDIATE", 1, 1, 1, 0, 2700, 2700, 2700, 1),
        Tally("PRIORITY", 0, 0, 0, 0, None, None, None, 0),
        Tally("ROUTINE", 0, 0, 0, 0, None, None, None, 0),
    )
    assert f.by_line == (Tally(LINE, 3, 2, 1, 1, 1470, 2454, 2700, 5),)
    assert f.escalations == (
        EscalationCount("resend", 3, 0),
        EscalationCount("relay", 2, 0),
        EscalationCount("alert", 0, 2),
        EscalationCount("stop", 1, 0),
    )


def test_contacts_refusals_alerts_and_links(played: Played) -> None:
    f = gather(node_record(played.node), "ex-1")
    c = f.contacts
    counts = (c.requested, c.accepted, c.held, c.declined, c.unanswered, c.cancelled)
    assert counts == (2, 0, 0, 1, 1, 0)
    assert (c.pending, c.median_answer_s, c.max_answer_s) == (0, 300, 300)
    assert [r.id for r in f.requests] == [played.ids["r1"], played.ids["r2"]]
    assert [(r.source, r.at - T0) for r in f.refusals] == [
        ("contact", timedelta(minutes=5)),
        ("contact", timedelta(minutes=20)),
        ("federation", timedelta(minutes=40)),
    ]
    assert f.refusals[0].reason == "minister travelling"
    assert f.refusals[2].reason == "bad signature"
    assert [(a.id, a.drafted_at) for a in f.alerts] == [
        (played.ids["alert"], T0),  # opened before the span, drafted into Track 1
        (str(int(played.ids["alert"]) + 1), None),
    ]
    assert f.alerts_drafted == 1
    (link,) = f.links
    assert link.peer == "RU"
    assert [(t - T0, ok) for t, ok in link.tests] == [
        (timedelta(minutes=m), ok)
        for m, ok in [(0, True), (10, False), (20, False), (30, True), (40, True)]
    ]
    assert link.availability == pytest.approx(0.6)
    assert link.outages == (Outage(T0 + timedelta(minutes=10), T0 + timedelta(minutes=30), 2),)


def test_findings_say_where_the_lines_failed(played: Played) -> None:
    said = findings(gather(node_record(played.node), "ex-1"))
    assert said == [
        "3 exercise messages: 1 acknowledged in time, 1 late, 1 not acknowledged",
        "FLASH on us-ru-deconfliction (“Track 3”, sent 01 Mar 12:05Z): never acknowledged "
        "(due 01 Mar 12:15Z), despite 2 resends and 2 relays via us-ru-attache; alert skipped "
        "2 times (no principal of US has role leader)",
        "IMMEDIATE on us-ru-deconfliction (“Track 2 <b>east</b> & co”, sent 01 Mar 12:05Z): "
        "acknowledged after 45 min, 15 min past its deadline, after a resend",
        "2 of 2 call requests declined or unanswered (1 declined, 1 unanswered); "
        "answered in a median of 5 min",
        "link to RU down 20 min (2 tests), recovered at 01 Mar 12:35Z",
        "1 federation rejection during the exercise: bad signature (1)",
        "2 awareness alerts raised, 1 drafted into exercise messages "
        "(a median of 2 min from alert to message)",
    ]


def test_the_page_is_self_contained_and_escaped(played: Played) -> None:
    page = render_html(gather(node_record(played.node), "ex-1"))
    assert page.startswith("<!DOCTYPE html>")
    assert '<div class="banner">EXERCISE</div>' in page
    title = re.search(r"<title>(.*?)</title>", page)
    assert title is not None
    assert "ex-1" in title.group(1) and "2026-03-01 12:05Z to 2026-03-01 12:50Z" in title.group(1)
    assert page.count("<svg") == 5
    assert page.count("</svg>") == 5
    assert "Track 2 &lt;b&gt;east&lt;/b&gt; &amp; co" in page
    assert "<b>east</b>" not in page
    assert "<script" not in page.lower()
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    rest = page
    for namespace in SVG_NAMESPACES:
        rest = rest.replace(namespace, "")
    assert "http://" not in rest and "https://" not in rest
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", rest)  # only links within a plot


def test_a_report_is_written_whole(played: Played, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "ex-1.html"
    figures = write_report(node_record(played.node), "ex-1", out)
    assert isinstance(figures, ExerciseFigures)
    text = out.read_text("utf-8")
    assert text == render_html(figures)
    assert text.endswith("</html>\n")
    assert [p.name for p in out.parent.iterdir()] == ["ex-1.html"]  # no temporary file left


def test_findings_in_russian(played: Played) -> None:
    said = findings(gather(node_record(played.node), "ex-1"), Words.of("ru"))
    assert said == [
        "3 учебных сообщения: вовремя подтверждено — 1, с опозданием — 1, не подтверждено — 1",
        "FLASH по линии us-ru-deconfliction («Track 3», отправлено 1 марта 12:05 UTC): так и не "
        "подтверждено (срок — 1 марта 12:15 UTC), несмотря на шаги: 2 повторные отправки и "
        "2 ретрансляции через us-ru-attache; шаг «оповещение» пропущен 2 раза "
        "(no principal of US has role leader)",
        "IMMEDIATE по линии us-ru-deconfliction («Track 2 <b>east</b> & co», отправлено "
        "1 марта 12:05 UTC): подтверждено через 45 мин, на 15 мин позже срока, после шагов: "
        "1 повторная отправка",
        "отклонено или осталось без ответа 2 из 2 запросов на связь (отклонено: 1, без ответа: "
        "1); медианное время ответа — 5 мин",
        "связи с RU не было 20 мин (2 проверки), восстановлена 1 марта 12:35 UTC",
        "за время учения 1 отказ межузлового обмена: bad signature (1)",
        "2 тревоги по обстановке, из них переведено в учебные сообщения: 1 "
        "(медиана 2 мин от тревоги до сообщения)",
    ]


def test_the_report_is_written_in_the_node_language(played: Played, tmp_path: Path) -> None:
    played.node.language = "ru"
    out = tmp_path / "ex-1.html"
    figures = write_report(node_record(played.node), "ex-1", out)
    page = out.read_text("utf-8")
    assert page == render_html(figures, Words.of("ru"))
    assert '<html lang="ru">' in page
    assert '<div class="banner">УЧЕНИЯ</div>' in page
    assert "<h1>Отчёт по итогам учения ex-1</h1>" in page
    assert "01.03.2026 12:05 UTC — 01.03.2026 12:50 UTC" in page
    assert "<th>отправлено</th>" in page and "<td>1 марта 12:05:00 UTC</td>" in page
    assert "<td>нет ответа в установленный срок</td>" in page  # the request left to expire
    assert "US воздушное судно" in page and "60 %" in page
    assert ">Время до подтверждения по срочности</text>" in page  # plots too
    assert "Track 2 &lt;b&gt;east&lt;/b&gt; &amp; co" in page
    for english in ("After-action", "Findings", "acknowledged", "EXERCISE", "Mar ", "declined"):
        assert english not in page


def test_another_exercise_is_reported_apart(played: Played) -> None:
    f = gather(node_record(played.node), "ex-2")
    assert [m.subject for m in f.messages] == ["Other"]
    assert f.escalations == () and f.contacts.requested == 0
    assert f.start == f.end == T0
    assert [(link.peer, link.tests) for link in f.links] == [("RU", ((T0, True),))]
    assert "link to RU up in all 1 test" not in findings(f)
    assert "link to RU up in 1 test" in findings(f)


def test_an_unknown_exercise_is_not_found(played: Played, tmp_path: Path) -> None:
    with pytest.raises(NotFound) as raised:
        gather(node_record(played.node), "ex-9")
    assert raised.value.what == "exercise"
    assert raised.value.hint is not None and "ex-1, ex-2" in raised.value.hint
    with pytest.raises(NotFound):
        write_report(node_record(played.node), "ex-9", tmp_path / "ex-9.html")
    assert not (tmp_path / "ex-9.html").exists()


def test_a_node_without_exercises_says_so(lab_node: Node) -> None:
    with pytest.raises(NotFound) as raised:
        gather(node_record(lab_node), "ex-1")
    assert raised.value.hint == "nothing on this node's record is marked as exercise traffic"


# -- the arithmetic ------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 0.9) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([240.0, 2700.0], 0.5) == 1470.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9) == 9.1
    assert percentile([3.0, 1.0, 2.0], 1.0) == 3.0


def test_outages_run_from_a_failure_to_the_next_success() -> None:
    t = [datetime(2026, 3, 1, 12, m, tzinfo=UTC) for m in range(0, 60, 10)]
    tests = list(zip(t, [True, False, False, True, False, False], strict=True))
    assert outages(tests) == (Outage(t[1], t[3], 2), Outage(t[4], None, 2))
    assert outages(tests)[0].seconds == 1200 and outages(tests)[1].seconds is None
    assert outages([(t[0], True)]) == ()


def test_a_link_is_named_by_the_other_side() -> None:
    assert link_peer("US", "US", "RU") == "RU"
    assert link_peer("US", "RU", "US") == "RU"
    assert link_peer("US", "RU", "UA") == "RU-UA"


def test_durations_in_words() -> None:
    assert [say(s) for s in (45, 240, 270, 3600, 3900)] == [
        "45 s",
        "4 min",
        "4 min 30 s",
        "1 h",
        "1 h 5 min",
    ]


def test_plot_labels_are_shown_literally() -> None:
    svg = bars(["cost $5", "a<b"], {"n": [1, 2]}, "Title $x$", "count")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "cost $5" in svg and "Title $x$" in svg  # no mathtext
    assert "a&lt;b" in svg and "a<b" not in svg
