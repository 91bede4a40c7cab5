"""The page of the after-action report: plots drawn with matplotlib as inline SVG, tables,
and the words for durations and times (:mod:`hotline.exercise.report` holds the figures).

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

from hotline.domain.exercise import BANNER
from hotline.domain.precedence import Precedence

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

    from hotline.exercise.report import ExerciseFigures, Step, Tally

#: SVG text stays text (small, searchable); ids are stable from one run to the next.
_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "hotline-report",
    "font.size": 9,
}
_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
GOOD, BAD, MUTED = "#2e7d32", "#c62828", "#9e9e9e"
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


def ack_times(series: Mapping[str, Sequence[float]], title: str) -> str:
    """A box per label (precedence) of times to acknowledge, in minutes, with each
    message as a dot; a label with no acknowledgement gets an empty slot."""
    fig = _figure()
    labels = list(series)
    if not any(series.values()):
        return _empty(fig, title, "no acknowledgement recorded")
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
        ax.set_ylabel("minutes to acknowledge")
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
) -> str:
    """Stacked bars: one bar per label, one layer per entry of ``stacks`` (its name in
    the legend when there are several)."""
    fig = _figure()
    if not labels or not any(any(v) for v in stacks.values()):
        return _empty(fig, title, "nothing recorded")
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
) -> str:
    """Per peer, a step line that is up (1) or down (0) from one link test to the next,
    over the span ``start``-``end`` (shaded where down)."""
    if not links:
        return _empty(_figure(), title, "no link test recorded in the span")

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
            ax.set_yticks([0, 1], ["down", "up"])
            ax.set_ylim(-0.2, 1.2)
            ax.set_ylabel(plain(peer), rotation=0, ha="right", va="center")
            ax.set_xlim(min(0.0, times[0]), until)
        axes[0, 0].set_title(plain(title))
        axes[-1, 0].xaxis.set_major_formatter(
            FuncFormatter(lambda v, _: (start + timedelta(minutes=v)).strftime("%H:%M"))
        )
        axes[-1, 0].set_xlabel("time (UTC)")
    return svg_of(fig)


# -- words ----------------------------------------------------------------------------------


def say(seconds: float) -> str:
    """A duration in words: ``45 s``, ``23 min``, ``1 h 5 min``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    m, rest = divmod(s, 60)
    if m < 60:
        return f"{m} min" + (f" {rest} s" if rest else "")
    h, m = divmod(m, 60)
    return f"{h} h" + (f" {m} min" if m else "")


def hhmm(moment: datetime) -> str:
    return moment.strftime("%d %b %H:%MZ")


def plural(n: int, one: str) -> str:
    return f"{n} {one if n == 1 else one + 's'}"


def joined(parts: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def steps_phrase(steps: Iterable[Step]) -> str:
    """Escalation steps taken, in words and in order: ``a resend and a relay via X``."""
    counts: Counter[tuple[str, str]] = Counter()
    for s in steps:
        if s.done and s.action != "stop":
            detail = {"relay": f" via {s.line}", "alert": f" to {', '.join(s.to)}" if s.to else ""}
            counts[(s.action, detail.get(s.action, ""))] += 1
    parts = [
        (f"{'an' if action[:1] in 'aeiou' else 'a'} {action}" if n == 1 else f"{n} {action}s")
        + detail
        for (action, detail), n in counts.items()
    ]
    return joined(parts) if parts else ""


def skipped_phrase(steps: Iterable[Step]) -> str:
    """Escalation steps skipped, and why: ``alert skipped 2 times (no principal ...)``."""
    counts = Counter((s.action, s.outcome.removeprefix("skipped: ")) for s in steps if not s.done)
    return "; ".join(
        f"{action} skipped" + (f" {n} times" if n > 1 else "") + f" ({why})"
        for (action, why), n in counts.items()
    )


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
    *("took", "late by", "escalation"),
)
CONTACT_COLUMNS = (
    *("requested", "accepted", "held", "declined", "unanswered", "cancelled", "pending"),
    *("median answer", "slowest answer"),
)


def _time(moment: datetime | None) -> str:
    return moment.strftime("%d %b %H:%M:%SZ") if moment is not None else "—"


def _secs(seconds: float | None) -> str:
    return say(seconds) if seconds is not None else "—"


def table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A table of plain text, every cell escaped."""
    body = [
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    ]
    if not body:
        body = [f'<tr><td colspan="{len(head)}" class="muted">none</td></tr>']
    heads = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{heads}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _tallies(tallies: Iterable[Tally], what: str) -> str:
    return table(
        [what, "sent", "acknowledged", "median", "90th pct", "max", "late", "never", "steps"],
        (
            (
                t.label,
                t.sent,
                t.acknowledged,
                _secs(t.median_s),
                _secs(t.p90_s),
                _secs(t.max_s),
                t.late,
                t.never,
                t.steps,
            )
            for t in tallies
            if t.sent
        ),
    )


def figure_plots(f: ExerciseFigures) -> dict[str, str]:
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
    steps = {"done": [x.done for x in f.escalations], "skipped": [x.skipped for x in f.escalations]}
    return {
        "acks": ack_times(acks, "Time to acknowledge by precedence"),
        "escalations": bars(
            [x.action for x in f.escalations],
            steps,
            "Escalation steps by action",
            "events",
            (GOOD, MUTED),
        ),
        "contacts": bars(
            list(outcomes), {"requests": list(outcomes.values())}, "Contact requests", "requests"
        ),
        "alerts": bars(
            ["raised", "drafted"],
            {"alerts": [len(f.alerts), f.alerts_drafted]},
            "Awareness alerts raised vs drafted into messages",
            "alerts",
        ),
        "links": link_steps(
            {link.peer: link.tests for link in f.links}, f.start, f.end, "Link availability"
        ),
    }


def _messages(f: ExerciseFigures) -> str:
    return table(
        MESSAGE_COLUMNS,
        (
            (
                _time(m.sent_at),
                m.line,
                m.author,
                m.precedence.value,
                m.subject,
                _time(m.deadline),
                _time(m.acked_at),
                m.acked_by or "—",
                _secs(m.seconds_to_ack),
                _secs(m.seconds_late),
                ", ".join(
                    f"{hhmm(s.at)} {s.action}" + ("" if s.done else " (skipped)") for s in m.steps
                )
                or "—",
            )
            for m in f.messages
        ),
    )


def _contacts(f: ExerciseFigures) -> str:
    c = f.contacts
    counts = table(
        CONTACT_COLUMNS,
        [
            (
                c.requested,
                c.accepted,
                c.held,
                c.declined,
                c.unanswered,
                c.cancelled,
                c.pending,
                _secs(c.median_answer_s),
                _secs(c.max_answer_s),
            )
        ],
    )
    each = table(
        ["requested", "line", "from", "to", "topic", "status", "answered", "took"],
        (
            (
                _time(r.requested_at),
                r.line,
                r.requester,
                r.addressee,
                r.topic,
                r.status.value,
                _time(r.answered_at),
                _secs(r.seconds_to_answer()),
            )
            for r in f.requests
        ),
    )
    return counts + each


def _links(f: ExerciseFigures) -> str:
    rows: list[tuple[object, ...]] = []
    for link in f.links:
        share = f"{link.availability:.0%}" if link.availability is not None else "—"
        if not link.outages:
            rows.append((link.peer, len(link.tests), share, "—", "—", "—", 0))
        for o in link.outages:
            end = _time(o.end) if o.end is not None else "not recovered"
            rows.append(
                (link.peer, len(link.tests), share, _time(o.start), end, _secs(o.seconds), o.tests)
            )
    head = ["peer", "tests", "up", "down from", "recovered at", "down for", "tests down"]
    return table(head, rows)


def page(f: ExerciseFigures, findings: Sequence[str]) -> str:
    """The whole page: banner, title with the span, findings, tables and plots."""
    e = html.escape
    span = f"{f.start:%Y-%m-%d %H:%MZ} to {f.end:%Y-%m-%d %H:%MZ}"
    svg = {k: f"<figure>{v}</figure>" for k, v in figure_plots(f).items()}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(BANNER)} {e(f.exercise)}: after-action report, {span}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<div class="banner">{e(BANNER)}</div>',
        f"<h1>After-action report: exercise {e(f.exercise)}</h1>",
        f"<p>{span}. Node {e(f.party)}; figures as of {f.as_of:%Y-%m-%d %H:%MZ}.</p>",
        "<h2>Findings</h2><ul>",
        *(f"<li>{e(s)}</li>" for s in findings),
        "</ul><h2>Acknowledgements</h2>",
        svg["acks"],
        _tallies(f.by_precedence, "precedence"),
        _tallies(f.by_line, "line"),
        "<h2>Messages</h2>",
        _messages(f),
        "<h2>Escalations</h2>",
        svg["escalations"],
        table(
            ["action", "done", "skipped"], ((x.action, x.done, x.skipped) for x in f.escalations)
        ),
        "<h2>Contact requests</h2>",
        svg["contacts"],
        _contacts(f),
        "<h2>Refusals</h2>",
        table(
            ["at", "source", "what", "reason"],
            ((_time(r.at), r.source, r.what, r.reason) for r in f.refusals),
        ),
        "<h2>Awareness alerts</h2>",
        svg["alerts"],
        table(
            ["opened", "alert", "rule", "severity", "summary", "drafted"],
            (
                (_time(a.opened_at), a.id, a.rule, a.severity, a.summary, _time(a.drafted_at))
                for a in f.alerts
            ),
        ),
        "<h2>Links</h2>",
        svg["links"],
        _links(f),
        f'<div class="banner">{e(BANNER)}</div>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
