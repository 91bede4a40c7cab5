"""The after-action report of an exercise: where did the lines fail us, and how fast did
we recover?

:func:`gather` reads this node's own record (the events marked with the exercise or
referring to one, and the link tests, federation rejections and awareness alerts of its
span) and hands it to :func:`figures_of`, a pure computation (the figures are
:mod:`hotline.exercise.figures`).
:func:`hotline.exercise.findings.findings` says the figures in sentences,
:func:`render_html` makes a self-contained page of them (inline SVG plots, no script,
nothing fetched) and :func:`write_report` writes it atomically, in the node's
``language`` (the words are in :mod:`hotline.exercise.words`). The figures hold data
only; every word is chosen when they are said.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from hotline.domain.addressing import awaited
from hotline.domain.alerting import Alert
from hotline.domain.clock import parse_time
from hotline.domain.contact import CONTACT_KINDS, ContactRequest, ContactStatus, fold
from hotline.domain.errors import InvalidInput, NotFound
from hotline.domain.events import Event, EventKind
from hotline.domain.exercise import exercise_events
from hotline.domain.policy import LineState
from hotline.domain.precedence import Precedence
from hotline.exercise.figures import (
    AlertFigure,
    ContactCounts,
    EscalationCount,
    ExerciseFigures,
    LinkFigure,
    MessageFigure,
    Outage,
    Refusal,
    Step,
    Tally,
)
from hotline.exercise.findings import ENGLISH, findings
from hotline.exercise.plots import page
from hotline.exercise.record import NodeRecord
from hotline.exercise.words import Words
from hotline.services.messages import deadline_of
from hotline.storage.peers import Rejection

READ_KINDS = (
    EventKind.MESSAGE.value,
    EventKind.ACK.value,
    EventKind.ESCALATION.value,
    EventKind.LINKTEST.value,
    *sorted(k.value for k in CONTACT_KINDS),
)
ACTIONS = ("resend", "relay", "alert", "stop")  # table order; others follow by name


# -- arithmetic ---------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q`` quantile (0-1) by linear interpolation between closest ranks; None for
    no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 <= q <= 1:
        raise InvalidInput("q", f"{q} is not between 0 and 1")
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def tally(label: str, messages: Sequence[MessageFigure]) -> Tally:
    times = [s for m in messages if (s := m.seconds_to_ack) is not None]
    return Tally(
        label=label,
        sent=len(messages),
        acknowledged=len(times),
        late=sum(1 for m in messages if m.seconds_late is not None),
        never=sum(1 for m in messages if m.acked_at is None),
        median_s=statistics.median(times) if times else None,
        p90_s=percentile(times, 0.9),
        max_s=max(times, default=None),
        steps=sum(len(m.taken) for m in messages),
    )


def outages(tests: Sequence[tuple[datetime, bool]]) -> tuple[Outage, ...]:
    """The down periods of a link, from its tests in order of time."""
    found: list[Outage] = []
    start: datetime | None = None
    failed = 0
    for at, ok in tests:
        if not ok:
            start, failed = start or at, failed + 1
        elif start is not None:
            found.append(Outage(start, at, failed))
            start, failed = None, 0
    if start is not None:
        found.append(Outage(start, None, failed))
    return tuple(found)


def link_peer(own: str, tester: str, peer: str) -> str:
    """Whom a link test is about, seen from ``own``'s node."""
    if tester == own:
        return peer
    return tester if peer == own else f"{tester}-{peer}"


def _path_ok(paths: Any) -> bool:
    return isinstance(paths, list) and any(
        isinstance(p, dict) and p.get("ok") is True for p in paths
    )


def link_figures(own: str, tests: Iterable[Event]) -> tuple[LinkFigure, ...]:
    per: dict[str, list[tuple[datetime, bool]]] = {}
    for e in tests:
        peer = link_peer(own, e.party, str(e.content.get("peer")))
        per.setdefault(peer, []).append((e.ts, _path_ok(e.content.get("paths"))))
    return tuple(
        LinkFigure(peer, tuple(sorted(t)), outages(sorted(t))) for peer, t in sorted(per.items())
    )


def message_figures(
    events: Sequence[Event], lines: dict[str, LineState]
) -> tuple[MessageFigure, ...]:
    """Each message among ``events``, with its acknowledgement and escalations among them."""
    about: dict[str, list[Event]] = {}
    for e in events:
        if e.kind in (EventKind.ACK, EventKind.ESCALATION) and isinstance(
            e.content.get("ref"), str
        ):
            about.setdefault(e.content["ref"], []).append(e)
    out = []
    for m in (e for e in events if e.kind == EventKind.MESSAGE):
        state = lines.get(m.line)
        if state is None:
            continue
        later = sorted(about.get(m.id, ()), key=lambda e: e.ts)
        waiting = set(awaited(m, state.line))
        first: dict[str, Event] = {}
        for a in later:
            if a.kind == EventKind.ACK and a.party != m.party:
                first.setdefault(a.party, a)
        done = waiting <= set(first) if waiting else bool(first)
        last = max(first.values(), key=lambda e: e.ts) if first and done else None
        c = m.content
        out.append(
            MessageFigure(
                id=m.id,
                line=m.line,
                party=m.party,
                author=m.author,
                precedence=Precedence(c["precedence"]),
                subject=str(c.get("subject", "")),
                sent_at=m.ts,
                deadline=deadline_of(m, state),
                acked_at=last.ts if last else None,
                acked_by=last.author if last else None,
                alert=str(c["alert"]) if c.get("alert") is not None else None,
                steps=tuple(
                    Step(
                        e.ts,
                        str(e.content.get("action")),
                        str(e.content.get("outcome", "done")),
                        e.line,
                        tuple(e.content.get("to") or ()),
                    )
                    for e in later
                    if e.kind == EventKind.ESCALATION
                ),
            )
        )
    return tuple(sorted(out, key=lambda m: m.sent_at))  # ties: as stored


def escalation_counts(events: Iterable[Event]) -> tuple[EscalationCount, ...]:
    done: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for e in events:
        if e.kind == EventKind.ESCALATION:
            action = str(e.content.get("action"))
            (done if e.content.get("outcome", "done") == "done" else skipped)[action] += 1
    seen = set(done) | set(skipped)
    order = [a for a in ACTIONS if a in seen] + sorted(seen - set(ACTIONS))
    return tuple(EscalationCount(a, done[a], skipped[a]) for a in order)


def contact_figures(
    events: Sequence[Event], as_of: datetime
) -> tuple[ContactCounts, tuple[ContactRequest, ...]]:
    """The contact requests among ``events``, folded with their answers among them."""
    later: dict[str, list[Event]] = {}
    for e in events:
        if e.kind in CONTACT_KINDS and e.kind != EventKind.CONTACT_REQUEST:
            later.setdefault(str(e.content.get("ref")), []).append(e)
    requests = tuple(
        sorted(
            (fold(e, later.get(e.id, ())) for e in events if e.kind == EventKind.CONTACT_REQUEST),
            key=lambda r: r.requested_at,
        )
    )
    status = Counter(r.status for r in requests)
    overdue = sum(1 for r in requests if r.open and as_of > r.respond_by)
    answers = [s for r in requests if (s := r.seconds_to_answer()) is not None]
    counts = ContactCounts(
        requested=len(requests),
        accepted=sum(1 for r in requests if r.answer is ContactStatus.ACCEPTED),
        held=status[ContactStatus.HELD],
        declined=sum(1 for r in requests if r.answer is ContactStatus.DECLINED),
        unanswered=status[ContactStatus.EXPIRED] + overdue,
        cancelled=status[ContactStatus.CANCELLED],
        pending=status[ContactStatus.PENDING] - overdue,
        median_answer_s=statistics.median(answers) if answers else None,
        max_answer_s=max(answers, default=None),
    )
    return counts, requests


def refusals(
    requests: Iterable[ContactRequest], rejections: Iterable[Rejection]
) -> tuple[Refusal, ...]:
    """Contact requests declined or left to expire, and federation rejections."""
    found = []
    for r in requests:
        if r.answer is ContactStatus.DECLINED and r.answered_at is not None:
            found.append(Refusal(r.answered_at, "contact", r.reason or None, request=r))
        elif r.status is ContactStatus.EXPIRED and r.closed_at is not None:
            found.append(Refusal(r.closed_at, "contact", None, request=r))
    for j in rejections:
        found.append(Refusal(parse_time(j.at), "federation", j.reason, rejection=j))
    return tuple(sorted(found, key=lambda f: f.at))


def alert_figures(
    alerts: Iterable[Alert], messages: Iterable[MessageFigure], start: datetime, end: datetime
) -> tuple[AlertFigure, ...]:
    """Awareness alerts opened in the span, or drafted into a message of the exercise
    (an alert that set an exercise off opens before its first event). Alert ids are the
    node's own: pass the messages drafted on this node only."""
    drafted: dict[str, datetime] = {}
    for m in sorted(messages, key=lambda m: m.sent_at):
        if m.alert is not None:
            drafted.setdefault(m.alert, m.sent_at)
    return tuple(
        AlertFigure(str(a.id), a.rule, a.severity, a, a.opened_at, drafted.get(str(a.id)))
        for a in sorted(alerts, key=lambda a: a.opened_at)
        if start <= a.opened_at <= end or str(a.id) in drafted
    )


def figures_of(
    exercise: str,
    party: str,
    events: Sequence[Event],
    lines: Sequence[LineState],
    rejections: Iterable[Rejection],
    alerts: Iterable[Alert],
    as_of: datetime,
) -> ExerciseFigures:
    """The figures of ``exercise`` from a node's events (any order, any exercise; link
    tests included), rejections and awareness alerts. Raises NotFound when no event is
    of the exercise."""
    marks = exercise_events(events, exercise)
    ours = sorted((e for e in events if e.id in marks), key=lambda e: e.ts)
    if not ours:
        known = sorted(set(exercise_events(events).values()))
        raise NotFound(
            "exercise",
            exercise,
            hint=f"exercises on this node's record: {', '.join(known)}"
            if known
            else "nothing on this node's record is marked as exercise traffic",
        )
    start, end = ours[0].ts, ours[-1].ts
    messages = message_figures(ours, {s.line.id: s for s in lines})
    counts, requests = contact_figures(ours, as_of)
    by_line: dict[str, list[MessageFigure]] = {}
    for m in messages:
        by_line.setdefault(m.line, []).append(m)
    return ExerciseFigures(
        exercise=exercise,
        party=party,
        start=start,
        end=end,
        as_of=as_of,
        messages=messages,
        by_precedence=tuple(
            tally(p.value, [m for m in messages if m.precedence is p]) for p in Precedence
        ),
        by_line=tuple(tally(line, group) for line, group in sorted(by_line.items())),
        escalations=escalation_counts(ours),
        contacts=counts,
        requests=requests,
        refusals=refusals(requests, (j for j in rejections if start <= parse_time(j.at) <= end)),
        alerts=alert_figures(alerts, [m for m in messages if m.party == party], start, end),
        links=link_figures(
            party,
            (e for e in events if e.kind == EventKind.LINKTEST and start <= e.ts <= end),
        ),
    )


# -- reading the node -------------------------------------------------------------------

T = TypeVar("T")


def _newest_since(
    fetch: Callable[[int], list[T]], at: Callable[[T], datetime], since: datetime
) -> list[T]:
    """Rows newest first from ``fetch(limit)``, enough of them to reach back to ``since``."""
    limit = 200
    while True:
        rows = fetch(limit)
        if len(rows) < limit or at(rows[-1]) < since:
            return rows
        limit *= 4


def gather(node: NodeRecord, exercise: str) -> ExerciseFigures:
    """The figures of ``exercise`` from ``node``'s record. Raises NotFound (with the
    exercises on record as a hint) when nothing there is of that exercise."""
    lines = node.store.lines()
    events = node.store.events_on([s.line.id for s in lines], READ_KINDS)
    marks = exercise_events(events, exercise)
    marked = [e for e in events if e.id in marks]
    first = min((e.ts for e in marked), default=node.now())
    rejections = _newest_since(
        lambda n: node.peers.rejections(limit=n), lambda j: parse_time(j.at), first
    )
    picture = node.picture
    alerts = _newest_since(
        lambda n: picture.alerts(include_closed=True, limit=n), lambda a: a.opened_at, first
    )
    known = {str(a.id) for a in alerts}
    for e in marked:  # an alert drafted into the exercise may be older than its span
        ref = e.content.get("alert") if e.kind == EventKind.MESSAGE else None
        if isinstance(ref, str) and ref.isdigit() and ref not in known:
            try:
                alerts.append(picture.alert(int(ref))[0])
            except NotFound:
                continue
            known.add(ref)
    return figures_of(exercise, node.party, events, lines, rejections, alerts, node.now())


# -- the report -----------------------------------------------------------------------------


def render_html(figures: ExerciseFigures, w: Words = ENGLISH) -> str:
    """A self-contained page of the figures in the language of ``w``: the EXERCISE
    banner, the title with the exercise and its span, the findings, tables and inline SVG
    plots; no script, nothing fetched. Every text taken from events is escaped."""
    return page(figures, findings(figures, w), w)


def write_report(node: NodeRecord, exercise: str, out: Path) -> ExerciseFigures:
    """Gather the figures of ``exercise`` and write the page to ``out`` atomically (a
    temporary file beside it, then a rename), in the node's ``language`` (English when
    the report has no words in it). Raises NotFound as :func:`gather` does."""
    figures = gather(node, exercise)
    text = render_html(figures, Words.of(node.language))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return figures
