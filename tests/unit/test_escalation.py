"""Escalation policies (hotline.domain.escalation) and the engine
(hotline.domain.escalation_engine).

Everything runs on a fake clock: plain datetimes handed to the engine, never the real
time. Policies are parsed from TOML and YAML and planned for each precedence; the engine
is ticked, acknowledged, jumped ahead, wound back and rebuilt, and must return each step
of each message exactly once, in the order of its policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from hotline.domain.errors import InvalidInput
from hotline.domain.escalation import (
    DEFAULT_POLICY,
    DEFAULT_POLICY_TOML,
    MAX_STEPS,
    Action,
    Delay,
    EscalationPolicy,
    PlannedStep,
    parse_policy,
    policy_from_json,
)
from hotline.domain.escalation_engine import Due, Engine, _pack, _unpack
from hotline.domain.identity import Role
from hotline.domain.precedence import DEFAULT_DEADLINES, Precedence

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LINE = "us-ru-deconfliction"
PARTY = "US"
ACKER = "RU/NDMC"
M = timedelta(minutes=1)
H = timedelta(hours=1)

FLASH_PLAN = DEFAULT_POLICY.plan(DEFAULT_DEADLINES[Precedence.FLASH])
# (action, step number, cycle) of the default policy's plan, in order.
ROUND = [(Action.RESEND, 1), (Action.RELAY, 2), (Action.ALERT, 3)]
DEFAULT_ORDER = [(action, number, cycle) for cycle in range(3) for action, number in ROUND]
FLASH_MINUTES = [10, 15, 20, 30, 35, 40, 50, 55, 60]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def keys(dues: Iterable[Due]) -> list[tuple[Action, int, int]]:
    return [(d.action, d.number, d.cycle) for d in dues]


def steps_of(dues: Iterable[Due]) -> list[Due]:
    return [d for d in dues if d.action is not Action.STOP]


def stops_of(dues: Iterable[Due]) -> list[Due]:
    return [d for d in dues if d.action is Action.STOP]


def flash_engine(ref: str = "m1") -> Engine:
    engine = Engine()
    engine.track_message(ref, LINE, PARTY, T0, FLASH_PLAN)
    return engine


def tick(engine: Engine, start: datetime, end: datetime, every: timedelta) -> list[Due]:
    """Every action the engine returns when asked at start, start+every, ... up to end."""
    out: list[Due] = []
    moment = start
    while moment <= end:
        out.extend(engine.due(moment))
        moment += every
    return out


def toml_steps(*steps: str) -> str:
    return "\n".join(f"[[steps]]\n{s}\n" for s in steps)


def policy_error(text: str, fmt: str = "toml") -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        parse_policy(text, fmt)
    return info.value


# -- the default policy, planned per precedence ------------------------------------------


@pytest.mark.parametrize(
    ("precedence", "deadline", "offsets"),
    [
        (Precedence.FLASH, 10 * M, [m * M for m in FLASH_MINUTES]),
        (Precedence.IMMEDIATE, 30 * M, [m * M for m in (30, 45, 60, 90, 105, 120, 150, 165, 180)]),
        (Precedence.PRIORITY, 3 * H, [h * H for h in (3, 4.5, 6, 9, 10.5, 12, 15, 16.5, 18)]),
        (Precedence.ROUTINE, 6 * H, [h * H for h in (6, 9, 12, 18, 21, 24, 30, 33, 36)]),
    ],
)
def test_default_plan_per_precedence(
    precedence: Precedence, deadline: timedelta, offsets: list[timedelta]
) -> None:
    assert DEFAULT_DEADLINES[precedence] == deadline
    plan = DEFAULT_POLICY.plan(deadline)
    assert [p.offset for p in plan] == offsets
    assert [(p.step.action, p.step.number, p.cycle) for p in plan] == DEFAULT_ORDER
    # resend at the deadline, relay half a deadline later, alert a whole one later
    first = plan[0].offset
    assert first == deadline
    assert plan[1].offset - first == deadline / 2
    assert plan[2].offset - first == deadline
    # each further round starts two deadlines after the one before
    assert [plan[i + 3].offset - plan[i].offset for i in range(6)] == [2 * deadline] * 6


def test_default_policy_as_written() -> None:
    resend, relay, alert, repeat = DEFAULT_POLICY.steps
    assert [s.number for s in DEFAULT_POLICY.steps] == [1, 2, 3, 4]
    assert (resend.action, resend.after) == (Action.RESEND, Delay())
    assert (relay.action, relay.after, relay.via) == (Action.RELAY, Delay(percent=50), None)
    assert (alert.action, alert.after, alert.roles) == (
        Action.ALERT,
        Delay(percent=100),
        (Role.LEADER,),
    )
    assert (repeat.action, repeat.after, repeat.times) == (Action.REPEAT, Delay(percent=200), 2)
    assert DEFAULT_POLICY.repeat is repeat
    assert parse_policy(DEFAULT_POLICY_TOML) == DEFAULT_POLICY
    DEFAULT_POLICY.check(DEFAULT_DEADLINES)


@pytest.mark.parametrize(
    ("delay", "deadline", "of", "text"),
    [
        (Delay(), 10 * M, timedelta(0), "0"),
        (Delay(percent=50), 10 * M, 5 * M, "50%"),
        (Delay(percent=50), 6 * H, 3 * H, "50%"),
        (Delay(percent=200), 30 * M, H, "200%"),
        (Delay(fixed=5 * M), 10 * M, 5 * M, "5m"),
        (Delay(fixed=5 * M), 6 * H, 5 * M, "5m"),
        (Delay(fixed=90 * timedelta(seconds=1)), 6 * H, timedelta(seconds=90), "90s"),
    ],
)
def test_delay(delay: Delay, deadline: timedelta, of: timedelta, text: str) -> None:
    assert delay.of(deadline) == of
    assert delay.text() == text


@pytest.mark.parametrize(
    ("written", "delay"),
    [
        ('"0"', Delay()),
        ("0", Delay()),
        ('"5m"', Delay(fixed=5 * M)),
        ('"2h"', Delay(fixed=2 * H)),
        ('"50%"', Delay(percent=50)),
        ('" 150 % "', Delay(percent=150)),
    ],
)
def test_after_forms(written: str, delay: Delay) -> None:
    policy = parse_policy(toml_steps(f'action = "resend"\nafter = {written}'))
    assert policy.steps[0].after == delay


# -- repeat -------------------------------------------------------------------------------


@pytest.mark.parametrize("times", [1, 2, 5, 10])
def test_repeat_times_gives_that_many_extra_rounds(times: int) -> None:
    policy = parse_policy(
        toml_steps(
            'action = "resend"\nafter = "0"',
            'action = "alert"\nafter = "5m"\nroles = ["leader"]',
            f'action = "repeat"\nafter = "100%"\ntimes = {times}',
        )
    )
    plan = policy.plan(10 * M)
    assert len(plan) == 2 * (times + 1)
    assert [(p.step.number, p.cycle) for p in plan] == [
        (n, c) for c in range(times + 1) for n in (1, 2)
    ]
    assert [p.offset for p in plan] == [
        10 * M + c * 10 * M + d for c in range(times + 1) for d in (timedelta(0), 5 * M)
    ]

    engine = Engine()
    engine.track_message("m1", LINE, PARTY, T0, plan)
    dues = engine.due(T0 + 365 * 24 * H)
    assert keys(dues) == [(p.step.action, p.step.number, p.cycle) for p in plan]
    assert engine.due(T0 + 366 * 24 * H) == []


def test_no_repeat_plans_one_round() -> None:
    policy = parse_policy(toml_steps('action = "resend"\nafter = "0"'))
    assert policy.repeat is None
    assert [(p.offset, p.cycle) for p in policy.plan(30 * M)] == [(30 * M, 0)]


# -- policy errors ------------------------------------------------------------------------

RESEND = 'action = "resend"\nafter = "0"'
RELAY = 'action = "relay"\nafter = "50%"'
ALERT = 'action = "alert"\nafter = "100%"\nroles = ["leader"]'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            toml_steps('action = "page"\nafter = "0"'),
            "step 1: unknown action 'page'",
            id="unknown action",
        ),
        pytest.param(
            toml_steps('action = "stop"\nafter = "0"'),
            "step 1: unknown action 'stop'",
            id="engine-only action",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "relay"\nafer = "50%"'),
            "step 2 (relay): unknown field(s) afer",
            id="typo afer",
        ),
        pytest.param(
            toml_steps('action = "resend"\nafter = "0"\nroles = ["leader"]'),
            "step 1 (resend): unknown field(s) roles",
            id="field of another action",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "relay"'),
            "step 2 (relay): 'after' is missing",
            id="missing after",
        ),
        pytest.param(
            toml_steps('action = "resend"\nafter = "soon"'),
            "step 1: 'after' = 'soon' is not a delay",
            id="after soon",
        ),
        pytest.param(
            toml_steps('action = "resend"\nafter = "-5m"'),
            "step 1: 'after' = '-5m' is not a delay",
            id="after negative",
        ),
        pytest.param(
            toml_steps('action = "resend"\nafter = 5'),
            "step 1: 'after' is text",
            id="after a number",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "repeat"\nafter = "200%"\ntimes = 2', RELAY),
            "step 2: a repeat must be the last step",
            id="repeat not last",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "repeat"\nafter = "200%"\ntimes = 0'),
            "step 2 (repeat): 'times' must be a whole number from 1 to 10",
            id="repeat times 0",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "repeat"\nafter = "200%"\ntimes = 11'),
            "step 2 (repeat): 'times' must be a whole number from 1 to 10",
            id="repeat times 11",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "repeat"\nafter = "200%"\ntimes = "2"'),
            "step 2 (repeat): 'times' must be a whole number from 1 to 10",
            id="repeat times text",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "repeat"\nafter = "200%"\ntimes = true'),
            "step 2 (repeat): 'times' must be a whole number from 1 to 10",
            id="repeat times bool",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "repeat"\nafter = "200%"'),
            "step 2 (repeat): 'times' must be a whole number from 1 to 10",
            id="repeat times missing",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "alert"\nafter = "100%"'),
            "step 2 (alert): 'roles' is a list of roles",
            id="alert without roles",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "alert"\nafter = "100%"\nroles = "leader"'),
            "step 2 (alert): 'roles' is a list of roles",
            id="alert roles not a list",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "alert"\nafter = "100%"\nroles = ["general"]'),
            "step 2 (alert): role: unknown role 'general'",
            id="alert unknown role",
        ),
        pytest.param(
            toml_steps(RESEND, 'action = "alert"\nafter = "100%"\nroles = []'),
            "step 2 (alert): 'roles' is a list of roles",
            id="alert empty roles",
        ),
        pytest.param(
            toml_steps('action = "relay"\nafter = "0"\nvia = 5'),
            "step 1 (relay): 'via' names a line",
            id="via not text",
        ),
        pytest.param(
            toml_steps('action = "repeat"\nafter = "200%"\ntimes = 2'),
            "a policy needs a step that acts, not only a repeat",
            id="only a repeat",
        ),
        pytest.param("", "a policy needs at least one step under 'steps'", id="empty"),
        pytest.param(
            "steps = []", "a policy needs at least one step under 'steps'", id="empty steps"
        ),
        pytest.param(
            "[[step]]\n" + RESEND, "a policy is a list of steps; unknown key(s) ['step']", id="step"
        ),
        pytest.param(toml_steps(*[RESEND] * (MAX_STEPS + 1)), "at most 20 steps", id="too many"),
        pytest.param("[[steps]\naction = 'resend'", "not valid TOML", id="invalid TOML"),
        pytest.param('steps = [{action = "resend"', "not valid TOML", id="unclosed TOML"),
    ],
)
def test_policy_errors(text: str, expected: str) -> None:
    error = policy_error(text)
    assert error.field == "policy"
    assert str(error).startswith("policy: ")
    assert expected in str(error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("steps: [\n  - action: resend", "not valid YAML", id="invalid YAML"),
        pytest.param("steps:\n\t- action: resend\n", "not valid YAML", id="tab"),
        pytest.param("", "a policy is a list of steps", id="empty"),
        pytest.param("- action: resend\n  after: 0\n", "a policy is a list of steps", id="list"),
        pytest.param("steps: []\n", "a policy needs at least one step", id="no steps"),
        pytest.param(
            "steps:\n  - action: resend\n    afer: 0\n",
            "step 1 (resend): unknown field(s) afer",
            id="typo afer",
        ),
        pytest.param(
            "steps:\n  - action: resend\n    after: 0\n  - action: repeat\n"
            "    after: 200%\n    times: '2'\n",
            "step 2 (repeat): 'times' must be a whole number from 1 to 10",
            id="times text",
        ),
        pytest.param(
            "steps:\n  - resend\n",
            "step 1 is not a table of fields",
            id="step not a mapping",
        ),
    ],
)
def test_yaml_policy_errors(text: str, expected: str) -> None:
    error = policy_error(text, "yaml")
    assert error.field == "policy"
    assert expected in str(error)


def test_unknown_format() -> None:
    error = policy_error(DEFAULT_POLICY_TOML, "json")
    assert "unknown policy format 'json'" in str(error)


DEFAULT_POLICY_YAML = """\
steps:
  - action: resend
    after: "0"
  - action: relay
    after: 50%
  - action: alert
    after: 100%
    roles: [leader]
  - action: repeat
    after: 200%
    times: 2
"""

CUSTOM_TOML = """\
[[steps]]
action = "resend"
after = 0

[[steps]]
action = "relay"
after = "5m"
via = "us-ru-attache"

[[steps]]
action = "alert"
after = "75%"
roles = ["leader", "watch-officer"]

[[steps]]
action = "repeat"
after = "3h"
times = 1
"""

CUSTOM_YAML = """\
steps:
- {action: resend, after: 0}
- action: RELAY
  after: 5m
  via: US-RU-ATTACHE
- action: alert
  after: " 75% "
  roles:
  - Leader
  - watch_officer
- {action: repeat, after: 3h, times: 1}
"""


@pytest.mark.parametrize(
    ("toml_text", "yaml_text"),
    [(DEFAULT_POLICY_TOML, DEFAULT_POLICY_YAML), (CUSTOM_TOML, CUSTOM_YAML)],
    ids=["default", "custom"],
)
def test_yaml_and_toml_give_equal_policies(toml_text: str, yaml_text: str) -> None:
    from_toml = parse_policy(toml_text, "toml")
    assert parse_policy(yaml_text, "yaml") == from_toml
    assert parse_policy(yaml_text, "yml") == from_toml
    assert policy_from_json(from_toml.to_json()) == from_toml


def test_custom_policy_fields() -> None:
    policy = parse_policy(CUSTOM_TOML)
    relay, alert = policy.steps[1], policy.steps[2]
    assert relay.via == "us-ru-attache"
    assert alert.roles == (Role.LEADER, Role.WATCH_OFFICER)
    assert [p.offset for p in policy.plan(10 * M)] == [
        10 * M,
        15 * M,
        10 * M + 7.5 * M,
        10 * M + 3 * H,
        15 * M + 3 * H,
        10 * M + 7.5 * M + 3 * H,
    ]


# -- order of the steps, per precedence ---------------------------------------------------

FIXED_THEN_SHARE = parse_policy(
    toml_steps('action = "resend"\nafter = "20m"', 'action = "relay"\nafter = "50%"')
)
SHARE_THEN_FIXED = parse_policy(
    toml_steps('action = "resend"\nafter = "50%"', 'action = "relay"\nafter = "20m"')
)
REPEAT_FIXED = parse_policy(
    toml_steps(RESEND, ALERT, 'action = "repeat"\nafter = "30m"\ntimes = 1')
)


@pytest.mark.parametrize(
    ("policy", "precedence", "expected"),
    [
        # a fixed 20m step listed before a 50% one: 50% of 10m or 30m comes sooner
        (FIXED_THEN_SHARE, Precedence.FLASH, "step 2 comes before step 1"),
        (FIXED_THEN_SHARE, Precedence.IMMEDIATE, "step 2 comes before step 1"),
        (FIXED_THEN_SHARE, Precedence.PRIORITY, None),
        (FIXED_THEN_SHARE, Precedence.ROUTINE, None),
        # the other way round: 50% of 3h or 6h comes after 20m
        (SHARE_THEN_FIXED, Precedence.FLASH, None),
        (SHARE_THEN_FIXED, Precedence.IMMEDIATE, None),
        (SHARE_THEN_FIXED, Precedence.PRIORITY, "step 2 comes before step 1"),
        (SHARE_THEN_FIXED, Precedence.ROUTINE, "step 2 comes before step 1"),
        # a fixed 30m repeat must come after the alert at 100% of the deadline
        (REPEAT_FIXED, Precedence.FLASH, None),
        (REPEAT_FIXED, Precedence.IMMEDIATE, "step 3 (repeat) must come after the last step"),
        (REPEAT_FIXED, Precedence.PRIORITY, "step 3 (repeat) must come after the last step"),
        (REPEAT_FIXED, Precedence.ROUTINE, "step 3 (repeat) must come after the last step"),
    ],
)
def test_check_order_per_precedence(
    policy: EscalationPolicy, precedence: Precedence, expected: str | None
) -> None:
    deadlines = {precedence: DEFAULT_DEADLINES[precedence]}
    if expected is None:
        policy.check(deadlines)
        offsets = [p.offset for p in policy.plan(DEFAULT_DEADLINES[precedence])]
        assert offsets == sorted(offsets)
        return
    with pytest.raises(InvalidInput) as info:
        policy.check(deadlines)
    assert info.value.field == "policy"
    assert f"for {precedence.value}: " in str(info.value)
    assert expected in str(info.value)
    assert info.value.hint


def test_check_names_the_first_precedence_that_fails() -> None:
    with pytest.raises(InvalidInput, match=r"for PRIORITY: .*step 2 comes before step 1"):
        SHARE_THEN_FIXED.check(DEFAULT_DEADLINES)
    with pytest.raises(InvalidInput, match=r"for FLASH: .*step 2 comes before step 1"):
        FIXED_THEN_SHARE.check(DEFAULT_DEADLINES)


def test_check_message_names_the_field_once() -> None:
    with pytest.raises(InvalidInput) as info:
        FIXED_THEN_SHARE.check(DEFAULT_DEADLINES)
    assert str(info.value).count("policy:") == 1


def test_steps_at_the_same_time_are_in_order() -> None:
    policy = parse_policy(
        toml_steps('action = "resend"\nafter = "50%"', RELAY.replace("50%", "5m"))
    )
    plan = policy.plan(10 * M)
    assert [p.offset for p in plan] == [15 * M, 15 * M]
    engine = Engine()
    engine.track_message("m1", LINE, PARTY, T0, plan)
    assert engine.due(at(14)) == []
    assert keys(engine.due(at(15))) == [(Action.RESEND, 1, 0), (Action.RELAY, 2, 0)]
    assert engine.due(at(15)) == []
    assert engine.next_due() is None


@pytest.mark.parametrize(
    "repeat_after",
    ["100%", "50%", "0"],
)
def test_repeat_before_the_last_step_is_refused(repeat_after: str) -> None:
    policy = parse_policy(
        toml_steps(RESEND, ALERT, f'action = "repeat"\nafter = "{repeat_after}"\ntimes = 2')
    )
    with pytest.raises(InvalidInput, match=r"step 3 \(repeat\) must come after the last step"):
        policy.plan(10 * M)
    with pytest.raises(InvalidInput, match=r"for FLASH: .*step 3 \(repeat\)"):
        policy.check(DEFAULT_DEADLINES)


def test_bad_via_names_the_step() -> None:
    error = policy_error(toml_steps('action = "relay"\nafter = "0"\nvia = "Bad Via!"'))
    assert error.field == "policy"
    assert "step 1 (relay)" in str(error)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("steps:\n  - {action: resend, after: 0, 5: x}\n", id="int field"),
        pytest.param("steps:\n  - {action: resend, after: 0, on: x, b: y}\n", id="bool field"),
        pytest.param("steps: [{action: resend, after: 0}]\n1: x\nb: y\n", id="int key"),
    ],
)
def test_yaml_keys_that_are_not_text(text: str) -> None:
    error = policy_error(text, "yaml")
    assert "unknown" in str(error)


# -- the engine: acknowledgement ------------------------------------------------------------


@pytest.mark.parametrize(
    ("close_at", "returned"),
    [
        pytest.param(at(m) - timedelta(seconds=1), i, id=f"before step {i + 1}")
        for i, m in enumerate(FLASH_MINUTES)
    ]
    + [
        pytest.param(at(12), 1, id="between 1 and 2"),
        pytest.param(at(25), 3, id="between rounds"),
        pytest.param(at(52), 7, id="between 7 and 8"),
        pytest.param(at(61), 9, id="just after the last"),
        pytest.param(at(600), 9, id="long after the last"),
    ],
)
def test_ack_stops_the_steps(close_at: datetime, returned: int) -> None:
    engine = flash_engine()
    before = tick(engine, T0, close_at - timedelta(seconds=1), timedelta(seconds=30))
    engine.close("m1", ACKER, close_at)
    after = tick(engine, close_at, close_at + 5 * H, M)

    assert stops_of(before) == []
    assert keys(steps_of(before)) == DEFAULT_ORDER[:returned]
    assert steps_of(after) == []
    assert [d.due for d in steps_of(before)] == [at(m) for m in FLASH_MINUTES[:returned]]
    stops = stops_of(after)
    if returned == 0:
        assert stops == []
    else:
        assert stops == [
            Due("m1", LINE, PARTY, Action.STOP, None, 0, close_at, timedelta(0), ACKER, close_at)
        ]
        assert stops[0].number == 0
        assert after[0] is stops[0]
    assert "m1" not in engine
    assert len(engine) == 0
    assert engine.next_due() is None


def test_close_is_idempotent_and_stop_comes_once() -> None:
    engine = flash_engine()
    assert keys(engine.due(at(10))) == [(Action.RESEND, 1, 0)]
    engine.close("m1", ACKER, at(11))
    engine.close("m1", "RU/OTHER", at(12))
    first = engine.due(at(11))
    assert [(d.action, d.by, d.at) for d in first] == [(Action.STOP, ACKER, at(11))]
    assert engine.due(at(12)) == []
    assert engine.due(at(100)) == []


def test_stop_already_recorded_is_not_returned() -> None:
    engine = flash_engine()
    engine.due(at(16))
    engine.close("m1", ACKER, at(17))
    engine.stopped("m1")
    assert engine.due(at(18)) == []


def test_close_of_unknown_ref_changes_nothing() -> None:
    engine = flash_engine()
    engine.close("other", ACKER, at(1))
    engine.stopped("other")
    engine.done("other", 1, 0)
    assert keys(engine.due(at(10))) == [(Action.RESEND, 1, 0)]


# -- the engine: exactly once -------------------------------------------------------------


@pytest.mark.parametrize("every", [timedelta(seconds=1), timedelta(seconds=30), M, 5 * M])
def test_each_step_once_across_many_ticks(every: timedelta) -> None:
    engine = flash_engine()
    dues = tick(engine, T0, at(180), every)
    assert keys(dues) == DEFAULT_ORDER
    assert [d.due for d in dues] == [at(m) for m in FLASH_MINUTES]
    assert all(d.late == timedelta(0) for d in dues)  # every tick lands on a step time
    assert all((d.ref, d.line, d.party) == ("m1", LINE, PARTY) for d in dues)
    assert [d.step for d in dues] == [p.step for p in FLASH_PLAN]
    assert engine.next_due() is None


def test_track_twice_changes_nothing() -> None:
    engine = flash_engine()
    engine.track_message("m1", LINE, PARTY, T0 + H, FLASH_PLAN)
    assert len(engine) == 1
    assert keys(engine.due(at(10))) == [(Action.RESEND, 1, 0)]


def test_empty_plan_is_not_tracked() -> None:
    engine = Engine()
    engine.track_message("m1", LINE, PARTY, T0, ())
    assert "m1" not in engine
    assert engine.due(at(1000)) == []


@pytest.mark.parametrize(
    ("first_tick", "jump_to", "first_count", "missed_count"),
    [
        (None, 58, 0, 8),
        (11, 58, 1, 7),
        (11, 600, 1, 8),
        (None, 6000, 0, 9),
        (21, 49, 3, 3),
    ],
)
def test_outage_returns_missed_steps_once_in_order(
    first_tick: int | None, jump_to: int, first_count: int, missed_count: int
) -> None:
    engine = flash_engine()
    first = engine.due(at(first_tick)) if first_tick is not None else []
    assert keys(first) == DEFAULT_ORDER[:first_count]

    missed = engine.due(at(jump_to))
    assert keys(missed) == DEFAULT_ORDER[first_count : first_count + missed_count]
    times = FLASH_MINUTES[first_count : first_count + missed_count]
    assert [d.due for d in missed] == [at(m) for m in times]
    assert [d.late for d in missed] == [at(jump_to) - at(m) for m in times]
    assert all(d.late > timedelta(0) for d in missed)

    rest = tick(engine, at(jump_to), at(6000), M)
    assert keys(first + missed + rest) == DEFAULT_ORDER


def test_clock_going_backwards_returns_nothing_new() -> None:
    engine = flash_engine()
    assert keys(engine.due(at(20))) == DEFAULT_ORDER[:3]
    for minutes in (5, 12, 19, 20, 0, -60):
        assert engine.due(at(minutes)) == [], minutes
    assert keys(engine.due(at(30))) == [(Action.RESEND, 1, 1)]
    assert engine.due(at(25)) == []
    assert keys(engine.due(at(100))) == DEFAULT_ORDER[4:]


def test_clock_backwards_before_anything_is_due() -> None:
    engine = flash_engine()
    assert engine.due(T0 - 24 * H) == []
    assert engine.due(at(9)) == []
    assert keys(engine.due(at(10))) == DEFAULT_ORDER[:1]


def test_next_due_follows_the_plan() -> None:
    engine = flash_engine()
    assert engine.next_due() == at(10)
    for minutes, following in zip(FLASH_MINUTES, [*FLASH_MINUTES[1:], None], strict=True):
        engine.due(at(minutes))
        assert engine.next_due() == (at(following) if following is not None else None)


@pytest.mark.parametrize("recorded", [0, 1, 3, 5, 8, 9])
@pytest.mark.parametrize("order", ["as planned", "reversed"])
def test_rebuilt_engine_does_not_repeat_recorded_steps(recorded: int, order: str) -> None:
    first = flash_engine()
    crash_at = at(FLASH_MINUTES[recorded - 1] + 1) if recorded else at(5)
    done = tick(first, T0, crash_at, M)
    assert len(done) == recorded

    rebuilt = Engine()
    rebuilt.track_message("m1", LINE, PARTY, T0, FLASH_PLAN)
    marks = [(d.number, d.cycle) for d in done]
    for number, cycle in reversed(marks) if order == "reversed" else marks:
        rebuilt.done("m1", number, cycle)
    assert rebuilt.history("m1") == (recorded, 9)

    assert rebuilt.due(crash_at) == []
    later = tick(rebuilt, crash_at, at(300), M)
    assert keys(later) == DEFAULT_ORDER[recorded:]
    assert [d.due for d in later] == [at(m) for m in FLASH_MINUTES[recorded:]]
    if recorded < 9:
        assert rebuilt.history("m1") == (9, 9)


def test_rebuilt_engine_after_an_outage_returns_only_unrecorded_steps() -> None:
    rebuilt = Engine()
    rebuilt.track_message("m1", LINE, PARTY, T0, FLASH_PLAN)
    for number, cycle in [(1, 0), (2, 0), (3, 0)]:
        rebuilt.done("m1", number, cycle)
    dues = rebuilt.due(at(45))
    assert keys(dues) == DEFAULT_ORDER[3:6]
    assert [d.late for d in dues] == [15 * M, 10 * M, 5 * M]


def test_rebuilt_engine_fills_a_gap_in_the_record() -> None:
    rebuilt = Engine()
    rebuilt.track_message("m1", LINE, PARTY, T0, FLASH_PLAN)
    rebuilt.done("m1", 1, 0)
    rebuilt.done("m1", 3, 0)  # step 2 was never recorded
    dues = rebuilt.due(at(25))
    assert keys(dues) == [(Action.RELAY, 2, 0)]
    assert dues[0].late == 10 * M
    assert keys(rebuilt.due(at(30))) == [(Action.RESEND, 1, 1)]


def test_done_after_due_changes_nothing() -> None:
    engine = flash_engine()
    returned = engine.due(at(15))
    for d in returned:
        engine.done("m1", d.number, d.cycle)
    assert engine.due(at(15)) == []
    assert keys(engine.due(at(20))) == [(Action.ALERT, 3, 0)]


@pytest.mark.parametrize(("recorded", "stop"), [(0, False), (1, True), (4, True)])
def test_rebuilt_engine_stop_only_when_a_step_was_done(recorded: int, stop: bool) -> None:
    rebuilt = Engine()
    rebuilt.track_message("m1", LINE, PARTY, T0, FLASH_PLAN)
    for _, number, cycle in DEFAULT_ORDER[:recorded]:
        rebuilt.done("m1", number, cycle)
    rebuilt.close("m1", ACKER, at(33))
    dues = rebuilt.due(at(34))
    assert [(d.action, d.by, d.at) for d in dues] == (
        [(Action.STOP, ACKER, at(33))] if stop else []
    )


def test_messages_are_independent() -> None:
    engine = Engine()
    engine.track_message("a", LINE, "US", T0, FLASH_PLAN)
    engine.track_message("b", "us-ru-leaders", "RU", at(3), FLASH_PLAN)
    dues = tick(engine, T0, at(17), M)
    assert [(d.ref, d.number, d.due) for d in dues] == [
        ("a", 1, at(10)),
        ("b", 1, at(13)),
        ("a", 2, at(15)),
    ]
    engine.close("a", ACKER, at(17))
    rest = tick(engine, at(17), at(200), M)
    assert [(d.ref, d.action) for d in stops_of(rest)] == [("a", Action.STOP)]
    assert {d.ref for d in steps_of(rest)} == {"b"}
    assert keys(steps_of(rest)) == DEFAULT_ORDER[1:]
    assert {(d.line, d.party) for d in steps_of(rest)} == {("us-ru-leaders", "RU")}


def test_outage_over_several_messages_is_oldest_first() -> None:
    engine = Engine()
    engine.track_message("a", LINE, PARTY, T0, FLASH_PLAN)
    engine.track_message("b", LINE, PARTY, at(2), FLASH_PLAN)
    dues = engine.due(at(120))
    assert len(dues) == 18
    assert [d.due for d in dues] == sorted(d.due for d in dues)


# -- the engine: contact requests ---------------------------------------------------------

RESPOND_BY = T0 + 4 * H


def request_engine() -> Engine:
    engine = Engine()
    engine.track_request("r1", "us-ru-leaders", "US", RESPOND_BY)
    return engine


def test_request_expires_once_at_respond_by() -> None:
    engine = request_engine()
    assert engine.next_due() == RESPOND_BY
    assert tick(engine, T0, RESPOND_BY - timedelta(seconds=1), M) == []
    assert engine.due(RESPOND_BY - timedelta(milliseconds=1)) == []
    dues = engine.due(RESPOND_BY)
    assert dues == [
        Due("r1", "us-ru-leaders", "US", Action.EXPIRE, None, 0, RESPOND_BY, timedelta(0))
    ]
    assert dues[0].number == 0
    assert tick(engine, RESPOND_BY, RESPOND_BY + 24 * H, M) == []
    assert "r1" not in engine
    assert engine.next_due() is None


def test_request_expiry_after_an_outage_is_late() -> None:
    engine = request_engine()
    dues = engine.due(RESPOND_BY + 2 * H)
    assert [(d.action, d.due, d.late) for d in dues] == [(Action.EXPIRE, RESPOND_BY, 2 * H)]
    assert engine.due(RESPOND_BY + 3 * H) == []


@pytest.mark.parametrize("closed_at", [T0, T0 + H, RESPOND_BY - timedelta(seconds=1)])
def test_request_answered_before_respond_by_never_expires(closed_at: datetime) -> None:
    engine = request_engine()
    assert tick(engine, T0, closed_at, M) == []
    engine.close("r1", "RU/MINDEF", closed_at)
    assert tick(engine, closed_at, RESPOND_BY + 24 * H, M) == []  # and no stop
    assert engine.next_due() is None


def test_request_expiry_already_recorded_is_not_returned() -> None:
    engine = request_engine()
    engine.done("r1", 0, 0)
    assert engine.due(RESPOND_BY + H) == []
    assert "r1" not in engine


def test_request_tracked_twice_expires_once() -> None:
    engine = request_engine()
    engine.track_request("r1", "us-ru-leaders", "US", RESPOND_BY + H)
    assert keys(engine.due(RESPOND_BY + 2 * H)) == [(Action.EXPIRE, 0, 0)]


def test_requests_and_messages_together() -> None:
    engine = flash_engine()
    engine.track_request("r1", "us-ru-leaders", "US", at(12))
    dues = tick(engine, T0, at(16), M)
    assert [(d.ref, d.action, d.due) for d in dues] == [
        ("m1", Action.RESEND, at(10)),
        ("r1", Action.EXPIRE, at(12)),
        ("m1", Action.RELAY, at(15)),
    ]


def test_planned_step_is_data() -> None:
    step = FLASH_PLAN[0]
    assert step == PlannedStep(10 * M, DEFAULT_POLICY.steps[0], 0)


def test_a_limit_leaves_the_rest_due_for_the_next_call() -> None:
    engine = Engine()
    plan = DEFAULT_POLICY.plan(DEFAULT_DEADLINES[Precedence.FLASH])
    for n in range(5):
        engine.track_message(f"m{n}", "line", "US", T0 + timedelta(minutes=n), plan)
    first = engine.due(at(100), limit=10)
    rest = engine.due(at(100))
    assert 10 <= len(first) < 5 * len(plan)  # whole items: an item's steps are not split
    assert len(first) + len(rest) == 5 * len(plan)
    assert {(d.ref, d.number, d.cycle) for d in first}.isdisjoint(
        (d.ref, d.number, d.cycle) for d in rest
    )


def test_compact_keeps_what_is_due() -> None:
    replayed, fresh = flash_engine(), flash_engine()
    replayed.done("m1", 1, 0)
    replayed.done("m1", 2, 0)
    fresh.done("m1", 1, 0)
    fresh.done("m1", 2, 0)
    replayed.compact()
    assert replayed.next_due() == fresh.next_due()
    assert keys(replayed.due(at(200))) == keys(fresh.due(at(200)))


# -- snapshots -----------------------------------------------------------------------------


IMMEDIATE_PLAN = DEFAULT_POLICY.plan(DEFAULT_DEADLINES[Precedence.IMMEDIATE])
PLAN_NAMES = {id(FLASH_PLAN): "flash", id(IMMEDIATE_PLAN): "immediate"}
PLANS = {"flash": FLASH_PLAN, "immediate": IMMEDIATE_PLAN}


def _busy_engine() -> Engine:
    """Messages part way through their plans, a step recorded out of order, a request, a
    message acknowledged after a step (its stop pending) and one closed before any."""
    engine = Engine()
    for n in range(4):
        engine.track_message(f"f{n}", LINE, PARTY, at(n), FLASH_PLAN)
    engine.track_message("i1", LINE, "RU", at(1), IMMEDIATE_PLAN, awaiting={"US", "UA"})
    engine.track_request("r1", LINE, PARTY, at(90))
    engine.due(at(16))  # f0..f3 resent, some relayed
    engine.done("f3", 3, 0)  # recorded by another scheduler, ahead of its turn
    engine.close("f1", "RU/NDMC", at(17))  # a stop is due
    engine.track_message("f9", LINE, PARTY, at(17), FLASH_PLAN)
    engine.close("f9", "RU/NDMC", at(17.5))  # closed before any step: gone
    return engine


def _reloaded(engine: Engine) -> Engine:
    import json

    return Engine.load(
        json.loads(json.dumps(engine.dump(lambda p: PLAN_NAMES[id(p)]))), PLANS.__getitem__
    )


def _as_taken(dues: Iterable[Due]) -> list[tuple[object, ...]]:
    return [(d.ref, d.action, d.number, d.cycle, d.due, d.by) for d in dues]


def test_a_dumped_engine_loads_to_take_the_same_steps() -> None:
    """An engine written to JSON and read back returns exactly the actions the original
    does, tick after tick, with who is awaited kept in it."""
    original = _busy_engine()
    loaded = _reloaded(original)
    assert len(loaded) == len(original) and "r1" in loaded and "f9" not in loaded
    assert loaded.next_due() == original.next_due()
    for engine in (original, loaded):  # one of the two awaited parties: still open
        engine.ack("i1", "US", "US/EUCOM-JOC", at(18))
    every = timedelta(minutes=1)
    theirs, ours = tick(original, at(16), at(120), every), tick(loaded, at(16), at(120), every)
    assert _as_taken(ours) == _as_taken(theirs)
    assert {d.ref for d in stops_of(ours)} == {"f1"}
    assert ("f3", Action.ALERT, 3, 0) not in [(d.ref, d.action, d.number, d.cycle) for d in ours]
    assert "i1" in loaded
    loaded.ack("i1", "UA", "UA/GS", at(121))
    assert "i1" not in loaded


def test_a_loaded_engine_makes_its_items_only_as_they_are_needed() -> None:
    """Read back, nothing is made an object until it is touched or falls due; settle()
    makes the rest, a part at a time, and the engine answers the same throughout."""
    original = Engine()
    for n in range(30):
        original.track_message(f"m{n:02}", LINE, PARTY, at(n), FLASH_PLAN, awaiting={"RU"})
    loaded = _reloaded(original)
    assert len(loaded) == 30 and not loaded._open
    assert loaded.next_due() == original.next_due()
    assert loaded.history("m07") == original.history("m07") == (0, len(FLASH_PLAN))
    assert list(loaded._open) == ["m07"]
    loaded.ack("m08", "RU", "RU/NDMC", at(1))  # closed before anything was due
    original.ack("m08", "RU", "RU/NDMC", at(1))
    assert "m08" not in loaded and len(loaded) == 29
    ours = loaded.due(at(12))  # what falls due by then is made, nothing more
    assert _as_taken(ours) == _as_taken(original.due(at(12)))
    assert ours and len(loaded._open) < 29
    assert loaded.settle(5) == 29 - len(loaded._open)
    assert loaded.settle() == 0 and len(loaded._open) == 29 and loaded._kept is None
    every = timedelta(minutes=1)
    assert _as_taken(tick(loaded, at(13), at(200), every)) == _as_taken(
        tick(original, at(13), at(200), every)
    )


def test_a_loaded_engine_tracks_nothing_twice() -> None:
    original = flash_engine("m1")
    loaded = _reloaded(original)
    loaded.track_message("m1", LINE, PARTY, at(5), FLASH_PLAN)  # read again after a restart
    assert len(loaded) == 1
    assert keys(loaded.due(at(11))) == keys(original.due(at(11)))


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(line=_pack(_unpack(d["line"])[:-1])),  # a column short
        lambda d: d.update(line="not a packed column"),
        lambda d: d.update(plan=_pack([99] * d["open"])),  # a plan it does not name
        lambda d: d.pop("refs"),
        lambda d: d.update(open=0),
        lambda d: d.update(refs=",".join(reversed(d["refs"].split(",")))),  # out of order
        lambda d: d.update(order=_pack([d["open"]])),  # an item it does not hold
        lambda d: d.update(wait=_pack([7] * d["open"])),  # a group it does not hold
    ],
)
def test_a_damaged_dump_does_not_load(damage: object) -> None:
    import json

    data = json.loads(json.dumps(_busy_engine().dump(lambda p: PLAN_NAMES[id(p)])))
    damage(data)  # type: ignore[operator]
    with pytest.raises((ValueError, KeyError, IndexError, TypeError)):
        Engine.load(data, {"flash": FLASH_PLAN}.__getitem__)
