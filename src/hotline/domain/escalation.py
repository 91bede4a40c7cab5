"""Escalation policies, and the plan of steps they give each message (the engine that
says which step is due is :mod:`hotline.domain.escalation_engine`).

A policy is data, written per line in TOML or YAML::

    [[steps]]
    action = "resend"          # the message again, on its own line
    after = "0"                # at the acknowledgement deadline

    [[steps]]
    action = "relay"           # over another line (the attaché), original id and signature
    after = "50%"              # half a deadline later: FLASH +15 min from sending
    via = "us-ru-attache"      # optional: by default an active relay line to that party

    [[steps]]
    action = "alert"           # the sending party's own principals with these roles
    after = "100%"
    roles = ["leader"]

    [[steps]]
    action = "repeat"          # run the steps above again, this many more times
    after = "200%"             # ...each round this long after the one before
    times = 2

``after`` counts from the acknowledgement deadline: ``0``, a duration (``5m``) or a
share of the deadline (``50%``), so one policy scales from FLASH to ROUTINE.

The engine (:mod:`hotline.domain.escalation_engine`) holds what is open (messages
awaiting an acknowledgement, contact requests awaiting an answer) and, given the time,
returns the actions due. It does no I/O and reads no clock; the node's scheduler feeds
it from the ledger and writes each action as a ledger event, so a step done is never
done again, whatever the clock does.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import yaml

from hotline.domain.errors import InvalidInput
from hotline.domain.identity import Role, parse_roles
from hotline.domain.policy import parse_line_id
from hotline.domain.precedence import Precedence, format_duration, parse_duration

MAX_TIMES = 10
MAX_STEPS = 20


class Action(StrEnum):
    RESEND = "resend"
    RELAY = "relay"
    ALERT = "alert"
    REPEAT = "repeat"
    EXPIRE = "expire"  # a contact request's response window closed
    STOP = "stop"  # acknowledged after escalation began: the record says by whom


STEP_ACTIONS = (Action.RESEND, Action.RELAY, Action.ALERT)
_FIELDS: dict[str, set[str]] = {
    Action.RESEND: {"action", "after"},
    Action.RELAY: {"action", "after", "via"},
    Action.ALERT: {"action", "after", "roles"},
    Action.REPEAT: {"action", "after", "times"},
}
_PERCENT = re.compile(r"^\s*(\d{1,4})\s*%\s*$")


@dataclass(frozen=True)
class Delay:
    """When a step comes, counted from the acknowledgement deadline: a fixed time, or a
    share (percent) of the deadline."""

    fixed: timedelta = timedelta(0)
    percent: int = 0

    def of(self, deadline: timedelta) -> timedelta:
        return self.fixed + deadline * self.percent / 100

    def text(self) -> str:
        if self.percent:
            return f"{self.percent}%"
        return format_duration(self.fixed) if self.fixed else "0"


def parse_delay(value: Any, where: str) -> Delay:
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return Delay()
    if not isinstance(value, str):
        raise InvalidInput("policy", f'{where}: \'after\' is text such as "0", "5m" or "50%"')
    if value.strip() == "0":
        return Delay()
    percent = _PERCENT.match(value)
    if percent:
        return Delay(percent=int(percent.group(1)))
    try:
        return Delay(fixed=parse_duration(value, field="after"))
    except InvalidInput:
        raise InvalidInput(
            "policy",
            f"{where}: 'after' = {value!r} is not a delay",
            hint='write "0" (at the deadline), a duration such as "5m", or a share '
            'of the deadline such as "50%"',
        ) from None


@dataclass(frozen=True)
class Step:
    """One step of a policy. ``number`` counts from 1 in the policy as written."""

    number: int
    action: Action
    after: Delay
    via: str | None = None
    roles: tuple[Role, ...] = ()
    times: int = 0

    def what(self) -> str:
        """The action in words: ``relay via us-ru-attache``."""
        return {
            Action.RESEND: "resend on the same line",
            Action.RELAY: f"relay via {self.via or 'a relay line'}",
            Action.ALERT: "alert " + ", ".join(r.value for r in self.roles),
            Action.REPEAT: f"repeat {self.times} more time(s)",
        }[self.action]

    def describe(self) -> str:
        return f"step {self.number}: {self.what()} at deadline + {self.after.text()}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.action.value, "after": self.after.text()}
        if self.via:
            data["via"] = self.via
        if self.roles:
            data["roles"] = [r.value for r in self.roles]
        if self.action is Action.REPEAT:
            data["times"] = self.times
        return data


@dataclass(frozen=True)
class PlannedStep:
    """A step at its place in time: ``offset`` after the message was sent."""

    offset: timedelta
    step: Step
    cycle: int  # 0 the first time through, 1.. for repeats


@dataclass(frozen=True)
class EscalationPolicy:
    steps: tuple[Step, ...]

    @property
    def repeat(self) -> Step | None:
        last = self.steps[-1] if self.steps else None
        return last if last is not None and last.action is Action.REPEAT else None

    def plan(self, deadline: timedelta) -> tuple[PlannedStep, ...]:
        """Every step in order of time for a message whose deadline is ``deadline`` after
        it was sent, repeats unrolled. Raises InvalidInput when the steps are not in order
        of time for this deadline."""
        acting = [s for s in self.steps if s.action is not Action.REPEAT]
        offsets = [deadline + s.after.of(deadline) for s in acting]
        timed = list(zip(acting, offsets, strict=True))
        for (a, ta), (b, tb) in itertools.pairwise(timed):
            if tb < ta:
                raise InvalidInput(
                    "policy",
                    f"step {b.number} comes before step {a.number} for a deadline of "
                    f"{format_duration(deadline)} ({format_duration(tb)} < {format_duration(ta)})",
                    hint="list the steps in the order they happen",
                )
        repeat = self.repeat
        cycles, period = 1, timedelta(0)
        if repeat is not None:
            period = repeat.after.of(deadline)
            last = acting[-1].after.of(deadline)
            if period <= last:
                raise InvalidInput(
                    "policy",
                    f"step {repeat.number} (repeat) must come after the last step it repeats "
                    f"(at deadline + {format_duration(last)})",
                    hint="give the repeat a later 'after'",
                )
            cycles += repeat.times
        return tuple(
            PlannedStep(offset + period * cycle, step, cycle)
            for cycle in range(cycles)
            for step, offset in zip(acting, offsets, strict=True)
        )

    def check(self, deadlines: Mapping[Precedence, timedelta]) -> None:
        """Raise InvalidInput unless the policy works for every precedence of a line."""
        for precedence, deadline in deadlines.items():
            try:
                self.plan(deadline)
            except InvalidInput as exc:
                detail = exc.message.removeprefix("policy: ")
                raise InvalidInput(
                    "policy", f"for {precedence.value}: {detail}", hint=exc.hint
                ) from None

    def to_json(self) -> dict[str, Any]:
        return {"steps": [s.to_json() for s in self.steps]}


DEFAULT_POLICY_TOML = """\
# The default escalation policy: times count from the acknowledgement deadline.
# FLASH (deadline 10 min): resend at +10, relay at +15, alert leadership at +20;
# then the whole round again twice, 20 minutes apart.

[[steps]]
action = "resend"
after = "0"

[[steps]]
action = "relay"
after = "50%"

[[steps]]
action = "alert"
after = "100%"
roles = ["leader"]

[[steps]]
action = "repeat"
after = "200%"
times = 2
"""


def parse_policy(text: str, fmt: str = "toml") -> EscalationPolicy:
    """Parse a policy written in TOML or YAML (``fmt``). Raises InvalidInput naming the
    step and field that is wrong."""
    try:
        if fmt == "toml":
            data: Any = tomllib.loads(text)
        elif fmt in ("yaml", "yml"):
            data = yaml.safe_load(text)
        else:
            raise InvalidInput("policy", f"unknown policy format {fmt!r}", hint="toml or yaml")
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("policy", f"not valid TOML: {exc}") from exc
    except yaml.YAMLError as exc:
        raise InvalidInput("policy", f"not valid YAML: {exc}") from exc
    return policy_from_json(data)


def policy_from_json(data: Any) -> EscalationPolicy:
    if not isinstance(data, dict) or set(data) - {"steps"}:
        extra = sorted(str(k) for k in set(data) - {"steps"}) if isinstance(data, dict) else []
        raise InvalidInput(
            "policy",
            "a policy is a list of steps" + (f"; unknown key(s) {extra}" if extra else ""),
            hint="write [[steps]] tables (TOML) or a 'steps:' list (YAML)",
        )
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise InvalidInput("policy", "a policy needs at least one step under 'steps'")
    if len(raw_steps) > MAX_STEPS:
        raise InvalidInput("policy", f"at most {MAX_STEPS} steps")
    steps = [_step(i + 1, raw, last=i == len(raw_steps) - 1) for i, raw in enumerate(raw_steps)]
    if all(s.action is Action.REPEAT for s in steps):
        raise InvalidInput("policy", "a policy needs a step that acts, not only a repeat")
    return EscalationPolicy(tuple(steps))


def _step(number: int, raw: Any, *, last: bool) -> Step:
    where = f"step {number}"
    if not isinstance(raw, dict):
        raise InvalidInput("policy", f"{where} is not a table of fields")
    name = str(raw.get("action", "")).strip().lower()
    if name not in _FIELDS:
        raise InvalidInput(
            "policy",
            f"{where}: unknown action {raw.get('action')!r}",
            hint="actions are resend, relay, alert and repeat",
        )
    action = Action(name)
    unknown = sorted(str(k) for k in set(raw) - _FIELDS[action])
    if unknown:
        raise InvalidInput(
            "policy",
            f"{where} ({action.value}): unknown field(s) {', '.join(unknown)}",
            hint=f"a {action.value} step has " + ", ".join(sorted(_FIELDS[action])),
        )
    if "after" not in raw:
        raise InvalidInput("policy", f"{where} ({action.value}): 'after' is missing")
    after = parse_delay(raw["after"], where)
    if action is Action.REPEAT:
        times = raw.get("times")
        if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= MAX_TIMES:
            raise InvalidInput(
                "policy", f"{where} (repeat): 'times' must be a whole number from 1 to {MAX_TIMES}"
            )
        if not last:
            raise InvalidInput("policy", f"{where}: a repeat must be the last step")
        return Step(number, action, after, times=times)
    if action is Action.RELAY:
        via = raw.get("via")
        if via is not None and not isinstance(via, str):
            raise InvalidInput("policy", f"{where} (relay): 'via' names a line")
        try:
            return Step(number, action, after, via=parse_line_id(via) if via else None)
        except InvalidInput as exc:
            raise InvalidInput("policy", f"{where} (relay): {exc.message}", hint=exc.hint) from None
    if action is Action.ALERT:
        roles = raw.get("roles")
        if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
            raise InvalidInput(
                "policy", f"{where} (alert): 'roles' is a list of roles, e.g. [\"leader\"]"
            )
        try:
            return Step(number, action, after, roles=parse_roles(roles))
        except InvalidInput as exc:
            raise InvalidInput("policy", f"{where} (alert): {exc.message}", hint=exc.hint) from None
    return Step(number, action, after)


DEFAULT_POLICY = parse_policy(DEFAULT_POLICY_TOML)


def describe_plan(plan: Iterable[PlannedStep]) -> list[str]:
    """Human lines: ``+10m resend``, ``+15m relay via ...``."""
    return [
        f"+{format_duration(p.offset)} {p.step.what()}"
        + (f" (round {p.cycle + 1})" if p.cycle else "")
        for p in plan
    ]
