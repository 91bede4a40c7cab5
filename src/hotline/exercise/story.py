"""Did the nodes act out the story? The record of an exercise on a stepped clock, checked
against its scenario: every step's event at the step's instant, and everything the
scenario's ``expect`` says the nodes do by themselves (escalations, expiries, alerts,
link tests) within its span. Pure: the record in, one :class:`Check` per item out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise

from hotline.domain.events import Event, EventKind
from hotline.domain.precedence import format_duration
from hotline.domain.scenario import Expect, Scenario
from hotline.exercise.record import AlertState


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str
    expected: bool = False  # one of the scenario's ``expect``, not a step's own event


def when(moment: datetime) -> str:
    return moment.strftime("%d %b %H:%M:%S" if moment.second else "%d %b %H:%M")


def _timed(what: str, found: datetime | None, low: datetime, high: datetime) -> Check:
    due = when(low) if low == high else f"{when(low)}-{when(high)}"
    if found is None:
        return Check(False, f"{what}: due {due}, not on the record")
    if found < low:
        return Check(False, f"{what}: due {due}, {format_duration(low - found)} early")
    if found > high:
        return Check(
            False, f"{what}: due {due}, on the record {format_duration(found - high)} late"
        )
    return Check(True, f"{what}: {when(found)}")


def _first(moments: Iterable[datetime]) -> datetime | None:
    return min(moments, default=None)


def check_steps(
    scenario: Scenario, step_events: Mapping[int, str], events: Mapping[str, Event]
) -> list[Check]:
    """Each step's event (by step index) on the record at the step's instant."""
    out = []
    requests = {s.name: step_events.get(s.index) for s in scenario.steps if s.name}
    for step in scenario.steps:
        due = scenario.start + step.at
        ident = step_events.get(step.index)
        if step.action == "answer":  # the API answers with the request: find the answer
            kind = "contact." + {"hold": "held"}.get(step.args["decision"], step.args["decision"])
            ref = requests.get(str(step.args["request"]))
            if ref is None:
                continue  # the request was not played
            found = _first(
                e.ts
                for e in events.values()
                if e.kind == kind and e.content.get("ref") == ref and e.author == step.args["as"]
            )
        elif ident is not None:
            event = events.get(ident)
            found = event.ts if event is not None else None
        else:
            continue
        out.append(_timed(f"{step.where} {step.action}", found, due, due))
    return out


def _link_up(event: Event) -> bool:
    paths = event.content.get("paths", [])
    return any(isinstance(p, dict) and p.get("ok") for p in paths)


def check_expectation(
    scenario: Scenario,
    x: Expect,
    step_events: Mapping[int, str],
    events: Mapping[str, Event],
    alerts: Sequence[AlertState],
) -> Check:
    low = scenario.start + x.at
    high = low + x.within
    named = {s.name: step_events.get(s.index) for s in scenario.steps if s.name}
    found: datetime | None
    if x.what == "escalation":
        ref = named.get(str(x.args["message"]))
        line = x.args.get("line")
        what = f"{x.value} of {x.args['message']}" + (f" over {line}" if line else "")
        found = _first(
            e.ts
            for e in events.values()
            if e.kind == EventKind.ESCALATION
            and e.content.get("ref") == ref
            and e.content.get("action") == x.value
            and e.content.get("outcome", "done") == "done"
            and (line is None or e.line == line)
        )
    elif x.what == "expire":
        ref = named.get(x.value)
        what = f"call request {x.value} expires"
        found = _first(
            e.ts
            for e in events.values()
            if e.kind == EventKind.CONTACT_EXPIRE and e.content.get("ref") == ref
        )
    elif x.what == "alert":
        km = x.args.get("km")
        whose = f"{x.args['party']}'s track, " if x.args.get("party") else ""
        span = f"{km[0]:g}-{km[1]:g} km" if km else "any distance"
        what = f"{x.value} alert on {x.args['node']} ({whose}{span})"
        states = [
            a
            for a in alerts
            if a.node == x.args["node"]
            and a.rule == x.value
            and (x.args.get("party") is None or a.party == x.args["party"])
        ]
        hits = [a for a in states if km is None or km[0] <= a.km <= km[1]]
        if states and not hits:
            seen = ", ".join(f"{a.km:.1f} km at {when(a.at)}" for a in states)
            return Check(False, f"{what}: due {when(low)}, came at {seen} instead")
        found = _first(a.at for a in hits)
    else:
        on = x.args["node"]
        what = f"{on}'s link test {x.value.upper() if x.value == 'down' else x.value}"
        found = _first(
            e.ts
            for e in events.values()
            if e.kind == EventKind.LINKTEST
            and e.party == on
            and e.ts >= low
            and _link_up(e) == (x.value == "up")
        )
    return _timed(what, found, low, high)


def check_story(
    scenario: Scenario,
    step_events: Mapping[int, str],
    events: Mapping[str, Event],
    alerts: Sequence[AlertState],
) -> list[Check]:
    """The steps' events, then the expectations, each checked against the record."""
    return [
        *check_steps(scenario, step_events, events),
        *(
            replace(check_expectation(scenario, x, step_events, events, alerts), expected=True)
            for x in scenario.expect
        ),
    ]


def out_of_order(moments: Sequence[datetime]) -> int:
    """How many times a moment comes before the one printed ahead of it."""
    return sum(1 for a, b in pairwise(moments) if b < a)
