"""The findings of an after-action report: where the lines failed us and how fast we
recovered, said in sentences in the report's language (the figures are
:mod:`hotline.exercise.figures`', the words :mod:`hotline.exercise.words`')."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from hotline.exercise.plots import skipped_phrase, steps_phrase
from hotline.exercise.words import Words

if TYPE_CHECKING:
    from hotline.exercise.figures import ExerciseFigures, LinkFigure, MessageFigure

ENGLISH = Words.of("en")


def message_finding(m: MessageFigure, as_of: datetime, w: Words = ENGLISH) -> str | None:
    """What went wrong with one message, if anything: late, or not acknowledged."""
    head = w.t(
        "finding.message",
        precedence=m.precedence.value,
        line=m.line,
        subject=m.subject,
        sent=w.moment(m.sent_at),
    )
    taken = steps_phrase(m.steps, w)
    late, took = m.seconds_late, m.seconds_to_ack
    if took is not None:
        if late is None:
            return None
        text = w.t("finding.acked_late", head=head, took=w.duration(took), late=w.duration(late))
        text += w.t("finding.after_steps", steps=taken) if taken else ""
    elif as_of < m.deadline:
        text = w.t("finding.not_yet", head=head, due=w.moment(m.deadline))
    else:
        text = w.t("finding.never", head=head, due=w.moment(m.deadline))
        text += w.t("finding.despite_steps", steps=taken) if taken else w.t("finding.no_steps")
    skipped = skipped_phrase(m.steps, w)
    return text + (f"; {skipped}" if skipped else "")


def link_findings(link: LinkFigure, end: datetime, w: Words = ENGLISH) -> list[str]:
    if not link.outages:
        n = len(link.tests)
        key = "finding.link_up_all" if n > 1 else "finding.link_up"
        return [w.t(key, peer=link.peer, tests=w.n("count.test", n))]
    return [
        w.t(
            "finding.link_recovered",
            peer=link.peer,
            duration=w.duration(o.seconds),
            tests=w.n("count.test", o.tests),
            at=w.moment(o.end),
        )
        if o.seconds is not None and o.end is not None
        else w.t(
            "finding.link_down",
            peer=link.peer,
            start=w.moment(o.start),
            tests=w.n("count.test", o.tests),
            end=w.moment(end),
        )
        for o in link.outages
    ]


def findings(figures: ExerciseFigures, w: Words = ENGLISH) -> list[str]:
    """Where the lines failed us and how fast we recovered, in plain sentences in the
    language of ``w``."""
    f = figures
    out = []
    if f.messages:
        late = sum(t.late for t in f.by_precedence)
        never = sum(t.never for t in f.by_precedence)
        out.append(
            w.t(
                "finding.messages",
                messages=w.n("count.exercise_message", len(f.messages)),
                in_time=len(f.messages) - late - never,
                late=late,
                never=never,
            )
        )
    ordered = sorted(f.messages, key=lambda m: (m.precedence.rank, m.sent_at))
    out.extend(s for m in ordered if (s := message_finding(m, f.as_of, w)) is not None)
    c = f.contacts
    if c.requested:
        text = w.t(
            "finding.calls",
            refused=c.declined + c.unanswered,
            requests=w.n("count.call_request", c.requested),
            declined=c.declined,
            unanswered=c.unanswered,
        )
        if c.median_answer_s is not None:
            text += w.t("finding.calls_median", duration=w.duration(c.median_answer_s))
        out.append(text + (f"; {w.n('count.pending', c.pending)}" if c.pending else ""))
    for link in f.links:
        out.extend(link_findings(link, f.end, w))
    if not f.links:
        out.append(w.t("finding.no_link_tests"))
    federation = Counter(r.reason or "" for r in f.refusals if r.source == "federation")
    if federation:
        reasons = ", ".join(f"{reason} ({n})" for reason, n in federation.most_common())
        total = w.n("count.federation_rejection", sum(federation.values()))
        out.append(w.t("finding.federation", total=total, reasons=reasons))
    if f.alerts:
        delays = [(a.drafted_at - a.opened_at).total_seconds() for a in f.alerts if a.drafted_at]
        text = w.t(
            "finding.alerts",
            alerts=w.n("count.awareness_alert", len(f.alerts)),
            drafted=f.alerts_drafted,
        )
        if delays:
            text += w.t("finding.alerts_median", duration=w.duration(statistics.median(delays)))
        out.append(text)
    return out
