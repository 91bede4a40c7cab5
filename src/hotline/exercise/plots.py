"""The page of the after-action report: plots drawn with matplotlib as inline SVG, tables,
and the phrases for escalation steps (:mod:`hotline.exercise.figures` holds the figures,
:mod:`hotline.exercise.words` the words of each language). Every label, heading and time
on the page comes from the language given, English by default.

Each plot takes plain data (labels, numbers, times) and returns one ``<svg>`` element:
no XML declaration, no DOCTYPE, no metadata, no reference to anything outside the page.
No pyplot: a :class:`Figure` needs no backend, opens no window and is not kept in any
global registry. Every text from events is escaped with :func:`html.escape` on the page,
and shown literally (no mathtext) in the plots.
"""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from hotline.domain.alerting import Alert
from hotline.domain.contact import ContactStatus
from hotline.domain.precedence import Precedence
from hotline.exercise.words import Words

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

    from hotline.exercise.figures import ExerciseFigures, Refusal, Step, Tally

#: SVG text stays text (small, searchable); ids are stable from one run to the next.
_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "hotline-report",
    "font.size": 9,
}
_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
GOOD, BAD, MUTED = "#2e7d32", "#c62828", "#9e9e9e"
ENGLISH = Words.of("en")
PALETTE = ("#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#558b2f")


def plain(text: str) -> str:
    """``text`` as matplotlib shows it literally: a ``$`` would start mathtext."""
    return text.replace("$", r"\$")


def svg_of(fig: Figure) -> str:
    """The figure as one inline ``<svg>`` element."""
    out = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = _METADATA.sub("", _PROLOGUE.sub("", out.getvalue(), count=1), count=1)
    return text.strip()


def _figure(width: float = 6.0, height: float = 3.0) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), layout="constrained")


def _empty(fig: Figure, title: str, note: str) -> str:
    ax = fig.add_subplot()
    ax.set_title(plain(title))
    ax.text(0.5, 0.5, plain(note), ha="center", va="center", color=MUTED)
    ax.set_axis_off()
    return svg_of(fig)


def ack_times(series: Mapping[str, Sequence[float]], title: str, w: Words = ENGLISH) -> str:
    """A box per label (precedence) of times to acknowledge, in minutes, with each
    message as a dot; a label with no acknowledgement gets an empty slot."""
    fig = _figure()
    labels = list(series)
    if not any(series.values()):
        return _empty(fig, title, w.t("plot.no_acks"))
    with matplotlib.rc_context(_RC):
        ax = fig.add_subplot()
        minutes = [[s / 60 for s in series[label]] for label in labels]
        ax.boxplot(
            minutes,
            positions=list(range(1, len(labels) + 1)),
            widths=0.5,
            showfliers=False,
            medianprops={"color": PALETTE[1]},
        )
        for i, values in enumerate(minutes, start=1):
            ax.plot([i] * len(values), values, "o", color=PALETTE[0], alpha=0.7, markersize=4)
        ax.set_xticks(range(1, len(labels) + 1), [plain(x) for x in labels])
        ax.set_ylabel(plain(w.t("plot.acks_axis")))
        ax.set_ylim(bottom=0)
        ax.set_title(plain(title))
        ax.grid(axis="y", alpha=0.3)
    return svg_of(fig)


def bars(
    labels: Sequence[str],
    stacks: Mapping[str, Sequence[float]],
    title: str,
    ylabel: str,
    colors: Sequence[str] = PALETTE,
    w: Words = ENGLISH,
) -> str:
    """Stacked bars: one bar per label, one layer per entry of ``stacks`` (its name in
    the legend when there are several)."""
    fig = _figure()
    if not labels or not any(any(v) for v in stacks.values()):
        return _empty(fig, title, w.t("plot.nothing"))
    with matplotlib.rc_context(_RC):
        ax = fig.add_subplot()
        bottom = [0.0] * len(labels)
        x = list(range(len(labels)))
        for (name, values), color in zip(stacks.items(), colors, strict=False):
            ax.bar(x, values, bottom=bottom, color=color, label=plain(name), width=0.6)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_xticks(x, [plain(label) for label in labels])
        ax.set_ylabel(plain(ylabel))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(plain(title))
        ax.grid(axis="y", alpha=0.3)
        if len(stacks) > 1:
            ax.legend(frameon=False)
    return svg_of(fig)


def link_steps(
    links: Mapping[str, Sequence[tuple[datetime, bool]]],
    start: datetime,
    end: datetime,
    title: str,
    w: Words = ENGLISH,
) -> str:
    """Per peer, a step line that is up (1) or down (0) from one link test to the next,
    over the span ``start``-``end`` (shaded where down), with times in UTC."""
    if not links:
        return _empty(_figure(), title, w.t("plot.no_links"))

    def x(moment: datetime) -> float:
        return (moment - start).total_seconds() / 60

    fig = _figure(6.0, 1.0 + 1.0 * len(links))
    with matplotlib.rc_context(_RC):
        axes = fig.subplots(len(links), 1, sharex=True, squeeze=False)
        for i, (peer, tests) in enumerate(links.items()):
            ax, color = axes[i, 0], PALETTE[i % len(PALETTE)]
            times = [x(t) for t, _ in tests]
            until = max(x(end), times[-1])
            states = [1 if ok else 0 for _, ok in tests]
            ax.step([*times, until], [*states, states[-1]], where="post", color=color)
            ax.plot(times, states, "o", color=color, markersize=3)
            for t0, t1, up in zip(times, [*times[1:], until], states, strict=True):
                if not up:
                    ax.axvspan(t0, t1, color=BAD, alpha=0.15, linewidth=0)
            ax.set_yticks([0, 1], [plain(w.t("plot.down")), plain(w.t("plot.up"))])
            ax.set_ylim(-0.2, 1.2)
            ax.set_ylabel(plain(peer), rotation=0, ha="right", va="center")
            ax.set_xlim(min(0.0, times[0]), until)
        axes[0, 0].set_title(plain(title))
        axes[-1, 0].xaxis.set_major_formatter(
            FuncFormatter(lambda v, _: w.moment(start + timedelta(minutes=v), "date.clock"))
        )
        axes[-1, 0].set_xlabel(plain(w.t("plot.time")))
    return svg_of(fig)


# -- words ----------------------------------------------------------------------------------


def say(seconds: float, w: Words = ENGLISH) -> str:
    """A duration in words: ``45 s``, ``23 min``, ``1 h 5 min``."""
    return w.duration(seconds)


def action_name(action: str, w: Words) -> str:
    """An escalation action in words (an action the words do not know, as recorded)."""
    return w.get(f"action.{action}", action)


def steps_phrase(steps: Iterable[Step], w: Words = ENGLISH) -> str:
    """Escalation steps taken, in words and in order: ``a resend and a relay via X``."""
    counts: Counter[tuple[str, str]] = Counter()
    for s in steps:
        if s.done and s.action != "stop":
            detail = {
                "relay": w.t("step.via", line=s.line),
                "alert": w.t("step.to", to=", ".join(s.to)) if s.to else "",
            }
            counts[(s.action, detail.get(s.action, ""))] += 1
    parts = [
        (
            w.n(f"step.{action}", n)
            if action in ("resend", "relay", "alert")
            else w.n("step.other", n, action=action_name(action, w))
        )
        + detail
        for (action, detail), n in counts.items()
    ]
    return w.joined(parts) if parts else ""


def skipped_phrase(steps: Iterable[Step], w: Words = ENGLISH) -> str:
    """Escalation steps skipped, and why: ``alert skipped 2 times (no principal ...)``."""
    counts = Counter((s.action, s.outcome.removeprefix("skipped: ")) for s in steps if not s.done)
    return "; ".join(
        w.n("skipped.times", n, action=action_name(action, w), why=why)
        if n > 1
        else w.t("skipped.once", action=action_name(action, w), why=why)
        for (action, why), n in counts.items()
    )


def alert_summary(a: Alert, w: Words = ENGLISH) -> str:
    """What an awareness alert is about, in words (as :meth:`Alert.summary` in English)."""
    who = w.t(
        "alert.who",
        party=a.party or "?",
        kind=w.get(f"track.{a.kind.value}", a.kind.value),
        uid=a.uid,
    )
    other = a.other
    if a.rule == "proximity":
        return w.t("alert.proximity", who=who, km=w.number(a.value / 1000), other=other)
    if a.rule == "incursion":
        return w.t("alert.incursion", who=who, other=other)
    if a.rule == "cpa":
        return w.t(
            "alert.cpa",
            who=who,
            other=other,
            with_uid=a.detail.get("with_uid"),
            nm=w.number(a.value / 1852),
            minutes=w.number(float(a.detail.get("tcpa_s", 0)) / 60),
        )
    if a.rule == "zone":
        return w.t(
            "alert.zone", who=who, zone_kind=a.detail.get("zone_kind"), zone=a.detail.get("zone")
        )
    if a.rule == "unannounced":
        return w.t("alert.unannounced", who=who, other=other, party=a.party)
    return w.t("alert.stale", who=who, seconds=w.number(a.value, 0))


# -- the page -------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:0 1rem 2rem;
color:#212121}
.banner{background:#c62828;color:#fff;font-weight:bold;letter-spacing:.3em;
text-align:center;padding:.4rem;margin:0 -1rem}
h1{margin-top:1rem}h2{border-bottom:1px solid #ccc;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}figure{margin:.5rem 0}svg{max-width:100%;height:auto}
.muted{color:#757575}
"""
MESSAGE_COLUMNS = (
    *("sent", "line", "from", "precedence", "subject", "deadline", "acknowledged", "by"),
    *("took", "late_by", "escalation"),
)
CONTACT_COLUMNS = (
    *("requested", "accepted", "held", "declined", "unanswered", "cancelled", "pending"),
    *("median_answer", "slowest_answer"),
)
NOTHING = "—"


def columns(w: Words, *names: str) -> list[str]:
    return [w.t(f"col.{name}") for name in names]


def _time(moment: datetime | None, w: Words) -> str:
    return w.moment(moment, "date.seconds") if moment is not None else NOTHING


def _secs(seconds: float | None, w: Words) -> str:
    return w.duration(seconds) if seconds is not None else NOTHING


def table(head: Sequence[str], rows: Iterable[Sequence[object]], none: str = "none") -> str:
    """A table of plain text, every cell escaped; ``none`` in a row of its own when
    there are no rows."""
    body = [
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    ]
    if not body:
        body = [f'<tr><td colspan="{len(head)}" class="muted">{html.escape(none)}</td></tr>']
    heads = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{heads}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _tallies(tallies: Iterable[Tally], what: str, w: Words) -> str:
    return table(
        columns(w, what, "sent", "acknowledged", "median", "p90", "max", "late", "never", "steps"),
        (
            (
                t.label,
                t.sent,
                t.acknowledged,
                _secs(t.median_s, w),
                _secs(t.p90_s, w),
                _secs(t.max_s, w),
                t.late,
                t.never,
                t.steps,
            )
            for t in tallies
            if t.sent
        ),
        w.t("page.none"),
    )


def figure_plots(f: ExerciseFigures, w: Words = ENGLISH) -> dict[str, str]:
    """The five plots of the page, by section."""
    c = f.contacts
    outcomes = {
        "accepted": c.accepted,
        "declined": c.declined,
        "unanswered": c.unanswered,
        "cancelled": c.cancelled,
        "pending": c.pending,
    }
    acks = {
        p.value: [
            s for m in f.messages if m.precedence is p and (s := m.seconds_to_ack) is not None
        ]
        for p in Precedence
    }
    steps = {
        w.t("col.done"): [x.done for x in f.escalations],
        w.t("col.skipped"): [x.skipped for x in f.escalations],
    }
    return {
        "acks": ack_times(acks, w.t("plot.acks"), w),
        "escalations": bars(
            [action_name(x.action, w) for x in f.escalations],
            steps,
            w.t("plot.escalations"),
            w.t("plot.events"),
            (GOOD, MUTED),
            w,
        ),
        "contacts": bars(
            [w.t(f"status.{o}") for o in outcomes],
            {w.t("plot.requests"): list(outcomes.values())},
            w.t("plot.contacts"),
            w.t("plot.requests"),
            w=w,
        ),
        "alerts": bars(
            [w.t("plot.raised"), w.t("plot.drafted")],
            {w.t("plot.alerts_axis"): [len(f.alerts), f.alerts_drafted]},
            w.t("plot.alerts"),
            w.t("plot.alerts_axis"),
            w=w,
        ),
        "links": link_steps(
            {link.peer: link.tests for link in f.links}, f.start, f.end, w.t("plot.links"), w
        ),
    }


def _messages(f: ExerciseFigures, w: Words) -> str:
    return table(
        columns(w, *MESSAGE_COLUMNS),
        (
            (
                _time(m.sent_at, w),
                m.line,
                m.author,
                m.precedence.value,
                m.subject,
                _time(m.deadline, w),
                _time(m.acked_at, w),
                m.acked_by or NOTHING,
                _secs(m.seconds_to_ack, w),
                _secs(m.seconds_late, w),
                ", ".join(
                    f"{w.moment(s.at)} {action_name(s.action, w)}"
                    + ("" if s.done else w.t("page.skipped"))
                    for s in m.steps
                )
                or NOTHING,
            )
            for m in f.messages
        ),
        w.t("page.none"),
    )


def _contacts(f: ExerciseFigures, w: Words) -> str:
    c = f.contacts
    counts = table(
        columns(w, *CONTACT_COLUMNS),
        [
            (
                c.requested,
                c.accepted,
                c.held,
                c.declined,
                c.unanswered,
                c.cancelled,
                c.pending,
                _secs(c.median_answer_s, w),
                _secs(c.max_answer_s, w),
            )
        ],
    )
    each = table(
        columns(w, "requested", "line", "from", "to", "topic", "status", "answered", "took"),
        (
            (
                _time(r.requested_at, w),
                r.line,
                r.requester,
                r.addressee,
                r.topic,
                w.get(f"status.{r.status.value}", r.status.value),
                _time(r.answered_at, w),
                _secs(r.seconds_to_answer(), w),
            )
            for r in f.requests
        ),
        w.t("page.none"),
    )
    return counts + each


def refusal_row(r: Refusal, w: Words) -> tuple[str, str, str, str]:
    """When, from where, what was refused and why, in words."""
    what, reason = "", r.reason or ""
    if r.request is not None:
        q = r.request
        what = w.t("refusal.call", requester=q.requester, addressee=q.addressee, topic=q.topic)
        if r.reason is None:
            declined = q.answer is ContactStatus.DECLINED
            reason = w.t("refusal.declined" if declined else "refusal.expired")
    elif r.rejection is not None:
        j = r.rejection
        what = w.t("refusal.rejected", kind=j.kind, peer=j.peer or w.t("refusal.unknown_peer"))
        what += (w.t("refusal.on_line", line=j.line) if j.line else "") + f": {j.detail}"
    return _time(r.at, w), w.get(f"source.{r.source}", r.source), what, reason


def _links(f: ExerciseFigures, w: Words) -> str:
    rows: list[tuple[object, ...]] = []
    for link in f.links:
        share = w.percent(link.availability) if link.availability is not None else NOTHING
        if not link.outages:
            rows.append((link.peer, len(link.tests), share, NOTHING, NOTHING, NOTHING, 0))
        for o in link.outages:
            end = _time(o.end, w) if o.end is not None else w.t("page.not_recovered")
            rows.append(
                (
                    link.peer,
                    len(link.tests),
                    share,
                    _time(o.start, w),
                    end,
                    _secs(o.seconds, w),
                    o.tests,
                )
            )
    head = columns(w, "peer", "tests", "up", "down_from", "recovered_at", "down_for", "tests_down")
    return table(head, rows, w.t("page.none"))


def page(f: ExerciseFigures, findings: Sequence[str], w: Words = ENGLISH) -> str:
    """The whole page in the language of ``w``: banner, title with the span, findings,
    tables and plots."""
    e = html.escape
    none = w.t("page.none")
    span = w.t("page.span", start=w.moment(f.start, "date.full"), end=w.moment(f.end, "date.full"))
    banner = e(w.t("page.banner"))
    svg = {k: f"<figure>{v}</figure>" for k, v in figure_plots(f, w).items()}
    as_of = w.moment(f.as_of, "date.full")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{e(w.lang)}"><head><meta charset="utf-8">',
        f"<title>{e(w.t('page.title', banner=w.t('page.banner'), exercise=f.exercise, span=span))}"
        "</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<div class="banner">{banner}</div>',
        f"<h1>{e(w.t('page.heading', exercise=f.exercise))}</h1>",
        f"<p>{e(w.t('page.intro', span=span, party=f.party, as_of=as_of))}</p>",
        f"<h2>{e(w.t('page.findings'))}</h2><ul>",
        *(f"<li>{e(s)}</li>" for s in findings),
        f"</ul><h2>{e(w.t('page.acknowledgements'))}</h2>",
        svg["acks"],
        _tallies(f.by_precedence, "precedence", w),
        _tallies(f.by_line, "line", w),
        f"<h2>{e(w.t('page.messages'))}</h2>",
        _messages(f, w),
        f"<h2>{e(w.t('page.escalations'))}</h2>",
        svg["escalations"],
        table(
            columns(w, "action", "done", "skipped"),
            ((action_name(x.action, w), x.done, x.skipped) for x in f.escalations),
            none,
        ),
        f"<h2>{e(w.t('page.contacts'))}</h2>",
        svg["contacts"],
        _contacts(f, w),
        f"<h2>{e(w.t('page.refusals'))}</h2>",
        table(
            columns(w, "at", "source", "what", "reason"),
            (refusal_row(r, w) for r in f.refusals),
            none,
        ),
        f"<h2>{e(w.t('page.alerts'))}</h2>",
        svg["alerts"],
        table(
            columns(w, "opened", "alert", "rule", "severity", "summary", "drafted"),
            (
                (
                    _time(a.opened_at, w),
                    a.id,
                    w.get(f"rule.{a.rule}", a.rule),
                    w.get(f"severity.{a.severity}", a.severity),
                    alert_summary(a.alert, w),
                    _time(a.drafted_at, w),
                )
                for a in f.alerts
            ),
            none,
        ),
        f"<h2>{e(w.t('page.links'))}</h2>",
        svg["links"],
        _links(f, w),
        f'<div class="banner">{banner}</div>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
