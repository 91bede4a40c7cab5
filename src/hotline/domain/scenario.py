"""Scenarios: timed steps an exercise (or the demo) plays against running nodes.

A scenario is a YAML document::

    scenario: baltic-2022          # its id, and the default exercise id
    title: ...
    start: 2022-03-01T08:00:00Z    # scenario time of the first step's `at: 0`
    speed: 60                      # the demo's pace: scenario seconds per real second
    jump: 1h                       # the demo skips gaps longer than this
    setup: {parties, principals, lines}   # what `hotline demo` creates on its nodes
    steps:
      - at: 2d3h                   # offset from start; never earlier than the step before
        say: narration for the timeline
        send | ack | request | answer | tracks | draft | outage: {...}
        name: q1                   # to refer to this step later
        pace: 2                    # the demo's speed from this step on (default: speed)
    expect:                        # what the nodes do by themselves, checked on the record
      - at: 12d11m                 # when (offset from start); within: 1m for a span
        escalation: resend | relay | alert | repeat | stop
        message: q1                # the step that sent it
      - {at: 2d2h, expire: call2}                         # a call request's window closes
      - {at: 12d40s, alert: proximity, node: US, party: RU, km: [20, 28]}
      - {at: 12d1h5m, link: down | up, node: US}    # the node's first link test so, from at

Silence is no step at all: a message nobody acknowledges escalates by itself. Every
error names the step and field and what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.clock import parse_time
from hotline.domain.errors import InvalidInput
from hotline.domain.exercise import parse_exercise_id
from hotline.domain.identity import parse_party_id, parse_principal_id, party_of

ACTIONS = ("send", "ack", "request", "answer", "tracks", "draft", "outage")
_FIELDS = {
    "send": {"as", "line", "kind", "precedence", "subject", "body", "lang", "to", "area"}
    | {"start", "end", "activity", "units"},
    "ack": {"as", "message", "reply", "lang"},
    "request": {"from", "to", "topic", "window"},
    "answer": {"as", "request", "decision", "reason", "time"},
    "tracks": {"to", "items"},
    "draft": {"as", "rule", "party", "wait"},
    "outage": {"as", "peer", "minutes"},
}
_REQUIRED = {
    "send": {"as", "line", "subject", "body"},
    "ack": {"as", "message"},
    "request": {"from", "to", "topic"},
    "answer": {"as", "request", "decision"},
    "tracks": {"to", "items"},
    "draft": {"as"},
    "outage": {"as", "peer", "minutes"},
}
_TRACK_FIELDS = {"uid", "party", "kind", "lat", "lon", "at", "alt_m", "speed_mps"} | {
    "course_deg",
    "callsign",
}
DECISIONS = ("accept", "decline", "hold")
EXPECTS = ("escalation", "expire", "alert", "link")
_EXPECT_FIELDS = {
    "escalation": {"message", "line"},
    "expire": set(),
    "alert": {"node", "party", "km"},
    "link": {"node"},
}
ESCALATIONS = ("resend", "relay", "alert", "repeat", "stop")
_OFFSET = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_offset(text: Any, where: str, *, relative: bool = False) -> timedelta:
    """``0``, ``90s``, ``1d2h30m``; with ``relative``, also ``+``/``-`` in front."""
    raw = str(text).strip()
    sign = 1
    if relative and raw[:1] in ("+", "-"):
        sign, raw = (-1 if raw[0] == "-" else 1), raw[1:]
    match = _OFFSET.match(raw) if raw not in ("", "0") else None
    if raw == "0":
        return timedelta(0)
    if match is None or not any(match.groups()):
        raise InvalidInput(
            where, f"{text!r} is not a time offset", hint="write e.g. 0, 90s, 10m, 2d3h"
        )
    d, h, m, s = (int(g or 0) for g in match.groups())
    return sign * timedelta(days=d, hours=h, minutes=m, seconds=s)


@dataclass(frozen=True)
class Step:
    index: int
    at: timedelta
    action: str | None  # None: narration only
    args: dict[str, Any] = field(default_factory=dict)
    say: str = ""
    name: str | None = None
    pace: float | None = None

    @property
    def where(self) -> str:
        return f"steps[{self.index}]" + (f" ({self.name})" if self.name else "")


@dataclass(frozen=True)
class Expect:
    """Something the nodes must do by themselves, in ``[at, at + within]``: ``what`` is
    one of :data:`EXPECTS`, ``value`` its action, request step, rule or link state."""

    index: int
    at: timedelta
    within: timedelta
    what: str
    value: str
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"expect[{self.index}]"


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    start: datetime
    speed: float
    jump: timedelta
    steps: tuple[Step, ...]
    setup: dict[str, Any] = field(default_factory=dict)
    expect: tuple[Expect, ...] = ()

    @property
    def length(self) -> timedelta:
        return self.steps[-1].at if self.steps else timedelta(0)

    def at_speed(self, speed: float) -> Scenario:
        return replace(self, speed=speed)

    def parties(self) -> set[str]:
        """The parties whose nodes play: those of the setup, else those that act."""
        declared = self.setup.get("parties") or {}
        if declared:
            return {str(p).upper() for p in declared}
        return {party_of(p) for p in self.principals()}

    def principals(self) -> set[str]:
        """Every principal a step acts as."""
        found = set()
        for s in self.steps:
            for key in ("as", "from"):
                if key in s.args:
                    found.add(str(s.args[key]))
        return found


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(where, f"expected a mapping, got {type(value).__name__}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(where, "expected a non-empty text")
    return value.strip()


def parse_scenario(data: Any) -> Scenario:
    """A checked scenario from parsed YAML. Raises InvalidInput naming the place."""
    top = _mapping(data, "scenario file")
    unknown = set(top) - {"scenario", "title", "start", "speed", "jump", "setup", "steps", "expect"}
    if unknown:
        raise InvalidInput("scenario file", f"unknown field(s) {', '.join(sorted(unknown))}")
    try:
        ident = parse_exercise_id(_text(top.get("scenario"), "scenario"))
    except InvalidInput as exc:
        raise InvalidInput("scenario", exc.message, hint=exc.hint) from None
    try:
        start = parse_time(str(top.get("start", "")))
    except (InvalidInput, ValueError) as exc:
        raise InvalidInput(
            "start", "give the scenario's start as a UTC time, e.g. 2022-03-01T08:00:00Z"
        ) from exc
    speed = top.get("speed", 60)
    if not isinstance(speed, (int, float)) or not 1 <= speed <= 100_000:
        raise InvalidInput(
            "speed", f"{speed!r}: give scenario seconds per real second, 1 to 100000"
        )
    jump = parse_offset(top.get("jump", "1h"), "jump")
    steps_in = top.get("steps")
    if not isinstance(steps_in, list) or not steps_in:
        raise InvalidInput("steps", "a scenario needs a list of steps")
    setup = _mapping(top.get("setup", {}), "setup")
    steps: list[Step] = []
    names: dict[str, Step] = {}
    for n, raw in enumerate(steps_in):
        step = _step(n, raw, steps[-1].at if steps else timedelta(0), names)
        if step.name:
            names[step.name] = step
        steps.append(step)
    expect_in = top.get("expect", [])
    if not isinstance(expect_in, list):
        raise InvalidInput("expect", "a list of what the nodes must do by themselves")
    expect = tuple(_expect(n, raw, names) for n, raw in enumerate(expect_in))
    scenario = Scenario(
        ident,
        str(top.get("title") or ident),
        start,
        float(speed),
        jump,
        tuple(steps),
        setup,
        expect,
    )
    _check_setup(scenario)
    return scenario


def _expect(n: int, raw: Any, names: dict[str, Step]) -> Expect:
    where = f"expect[{n}]"
    item = _mapping(raw, where)
    kinds = [k for k in EXPECTS if k in item]
    if len(kinds) != 1:
        raise InvalidInput(where, "name one of " + ", ".join(EXPECTS))
    what = kinds[0]
    unknown = set(item) - {"at", "within", what, *_EXPECT_FIELDS[what]}
    if unknown:
        raise InvalidInput(
            where,
            f"unknown field(s) {', '.join(sorted(map(str, unknown)))}",
            hint="allowed: at, within, " + ", ".join([what, *sorted(_EXPECT_FIELDS[what])]),
        )
    if "at" not in item:
        raise InvalidInput(f"{where}.at", "say when it is due, e.g. at: 12d11m")
    at = parse_offset(item["at"], f"{where}.at")
    within = parse_offset(item.get("within", "0"), f"{where}.within")
    value = str(item[what]).strip()
    args = {k: item[k] for k in _EXPECT_FIELDS[what] if k in item}

    def step_named(key: str, wanted: tuple[str, ...]) -> None:
        ref = names.get(str(args.get(key) if key in args else value))
        if ref is None or ref.action not in wanted:
            raise InvalidInput(
                f"{where}.{key}",
                f"{args.get(key, value)!r} names no {' or '.join(wanted)} step",
                hint="give that step a name: and use it here",
            )

    if what == "escalation":
        if value not in ESCALATIONS:
            raise InvalidInput(f"{where}.escalation", f"{value!r}: one of {', '.join(ESCALATIONS)}")
        if "message" not in args:
            raise InvalidInput(where, "missing message (the step that sent it)")
        step_named("message", ("send", "draft"))
    elif what == "expire":
        step_named("expire", ("request",))
    elif what == "alert":
        for key in ("node", "party"):
            if key in args:
                args[key] = parse_party_id(str(args[key]))
        if "node" not in args:
            raise InvalidInput(where, "missing node (the node that raises the alert)")
        km = args.get("km")
        if km is not None and (
            not isinstance(km, list)
            or len(km) != 2
            or not all(isinstance(x, (int, float)) for x in km)
            or not 0 <= km[0] <= km[1]
        ):
            raise InvalidInput(f"{where}.km", f"{km!r}: give [lowest, highest] in km")
    elif what == "link":
        if value not in ("up", "down"):
            raise InvalidInput(f"{where}.link", f"{value!r}: up or down")
        if "node" not in args:
            raise InvalidInput(where, "missing node (the node whose link test it is)")
        args["node"] = parse_party_id(str(args["node"]))
    return Expect(n, at, within, what, value, args)


def _step(n: int, raw: Any, after: timedelta, names: dict[str, Step]) -> Step:
    where = f"steps[{n}]"
    item = _mapping(raw, where)
    actions = [a for a in ACTIONS if a in item]
    unknown = set(item) - {"at", "say", "name", "pace", *ACTIONS}
    if unknown:
        raise InvalidInput(
            where,
            f"unknown field(s) {', '.join(sorted(unknown))}",
            hint="one of: at, say, name, pace, " + ", ".join(ACTIONS),
        )
    if len(actions) > 1:
        raise InvalidInput(where, f"one action per step, not {' and '.join(actions)}")
    if not actions and not item.get("say"):
        raise InvalidInput(where, "a step needs an action (" + ", ".join(ACTIONS) + ") or a say")
    at = parse_offset(item.get("at", "0"), f"{where}.at")
    if at < after:
        raise InvalidInput(
            f"{where}.at",
            f"{item.get('at')} is earlier than the step before",
            hint="steps run in time order",
        )
    name = item.get("name")
    if name is not None:
        name = _text(name, f"{where}.name")
        if name in names:
            raise InvalidInput(f"{where}.name", f"{name!r} names an earlier step too")
    pace = item.get("pace")
    if pace is not None and (not isinstance(pace, (int, float)) or not 0.1 <= pace <= 100_000):
        raise InvalidInput(
            f"{where}.pace", f"{pace!r}: scenario seconds per real second, 0.1-100000"
        )
    action = actions[0] if actions else None
    args: dict[str, Any] = {}
    if action is not None:
        args = dict(_mapping(item[action], f"{where}.{action}"))
        extra = set(args) - _FIELDS[action]
        if extra:
            raise InvalidInput(
                f"{where}.{action}",
                f"unknown field(s) {', '.join(sorted(extra))}",
                hint="allowed: " + ", ".join(sorted(_FIELDS[action])),
            )
        missing = _REQUIRED[action] - set(args)
        if missing:
            raise InvalidInput(f"{where}.{action}", f"missing {', '.join(sorted(missing))}")
        try:
            _check_args(action, args, f"{where}.{action}", names)
        except InvalidInput as exc:
            if exc.field.startswith(where):
                raise
            raise InvalidInput(f"{where}.{action}", exc.message, hint=exc.hint) from None
    return Step(
        n,
        at,
        action,
        args,
        str(item.get("say") or "").strip(),
        name,
        float(pace) if pace is not None else None,
    )


def _check_args(action: str, args: dict[str, Any], where: str, names: dict[str, Step]) -> None:
    for key in ("as", "from"):
        if key in args:
            args[key] = parse_principal_id(str(args[key]))
    if action == "request":
        args["to"] = parse_principal_id(str(args["to"]))
        if "window" in args:
            parse_offset(args["window"], f"{where}.window")
    if action in ("ack", "answer"):
        key = "message" if action == "ack" else "request"
        wanted = ("send", "draft") if action == "ack" else ("request",)
        ref = names.get(str(args[key]))
        if ref is None or ref.action not in wanted:
            raise InvalidInput(
                f"{where}.{key}",
                f"{args[key]!r} names no earlier {' or '.join(wanted)} step",
                hint="give that step a name: and use it here",
            )
        if action == "answer" and "time" in args:
            parse_offset(args["time"], f"{where}.time", relative=True)
        if action == "answer" and args["decision"] not in DECISIONS:
            raise InvalidInput(
                f"{where}.decision", f"{args['decision']!r}: one of {', '.join(DECISIONS)}"
            )
    if action == "send":
        for key in ("start", "end"):
            if key in args:
                parse_offset(args[key], f"{where}.{key}", relative=True)
    if action == "outage":
        args["peer"] = parse_party_id(str(args["peer"]))
        minutes = args["minutes"]
        if not isinstance(minutes, (int, float)) or not 0 < minutes <= 1440:
            raise InvalidInput(f"{where}.minutes", f"{minutes!r}: 1 to 1440 minutes")
    if action == "tracks":
        to = args["to"] if isinstance(args["to"], list) else [args["to"]]
        if not to:
            raise InvalidInput(f"{where}.to", "give the party whose node takes them, or a list")
        args["to"] = [parse_party_id(str(party)) for party in to]
        items = args["items"]
        if not isinstance(items, list) or not items:
            raise InvalidInput(f"{where}.items", "give a list of track positions")
        for i, point in enumerate(items):
            p = _mapping(point, f"{where}.items[{i}]")
            extra = set(p) - _TRACK_FIELDS
            if extra:
                raise InvalidInput(
                    f"{where}.items[{i}]", f"unknown field(s) {', '.join(sorted(extra))}"
                )
            for key in ("uid", "kind", "lat", "lon"):
                if key not in p:
                    raise InvalidInput(f"{where}.items[{i}]", f"missing {key}")
            try:
                lat, lon = float(p["lat"]), float(p["lon"])
            except (TypeError, ValueError):
                raise InvalidInput(f"{where}.items[{i}]", "lat and lon are numbers") from None
            if not -90 <= lat <= 90 or not -180 <= lon <= 180:
                raise InvalidInput(f"{where}.items[{i}]", "lat/lon out of range")
            parse_offset(p.get("at", "0"), f"{where}.items[{i}].at", relative=True)
    if action == "draft" and "wait" in args:
        parse_offset(args["wait"], f"{where}.wait")


def _check_setup(scenario: Scenario) -> None:
    setup = scenario.setup
    if not setup:
        return
    principals = setup.get("principals", [])
    lines = setup.get("lines", [])
    if not isinstance(principals, list) or not isinstance(lines, list):
        raise InvalidInput("setup", "principals and lines are lists")
    known = set()
    for i, p in enumerate(principals):
        entry = _mapping(p, f"setup.principals[{i}]")
        known.add(parse_principal_id(_text(entry.get("id"), f"setup.principals[{i}].id")))
    line_ids = set()
    for i, line in enumerate(lines):
        entry = _mapping(line, f"setup.lines[{i}]")
        line_ids.add(_text(entry.get("id"), f"setup.lines[{i}].id"))
        for m in entry.get("members", []):
            try:
                member = parse_principal_id(str(m))
            except InvalidInput as exc:
                raise InvalidInput(f"setup.lines[{i}].members", exc.message) from None
            if member not in known:
                raise InvalidInput(
                    f"setup.lines[{i}].members", f"{m} is not among setup.principals"
                )
    for s in scenario.steps:
        for who in (
            s.args.get("as"),
            s.args.get("from"),
            s.args.get("to") if s.action == "request" else None,
        ):
            if who is not None and who not in known:
                raise InvalidInput(f"{s.where}.{s.action}", f"{who} is not among setup.principals")
        if s.action == "send" and s.args["line"] not in line_ids:
            raise InvalidInput(f"{s.where}.send.line", f"{s.args['line']} is not among setup.lines")
