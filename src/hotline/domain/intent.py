"""Notifications of intent: "this is what we are doing; do not read it as a provocation".

A notification of intent is a message of kind ``notification`` whose content carries an
``intent`` block, and whose ``activity``, ``window``, ``area`` and ``units`` are then
mandatory::

    "intent": {"op": "notify"}                          # a new notification
    "intent": {"op": "amend", "of": "<event id>"}       # replaces the fields of one
    "intent": {"op": "cancel", "of": "<event id>"}      # withdraws one
    "intent": {..., "short_notice": {"required": "24h", "given": "12h",
                                     "confirmed_by": "US/EUCOM-JOC"}}

Lead-time rules (the 1988 launch notification agreement: 24 h; incidents at sea: 3 days;
major strategic exercises: 14 days) are checked when the notification is sent: shorter
notice is refused unless the sender confirms it, and the confirmation is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hotline.domain.errors import InvalidInput, Refused
from hotline.domain.precedence import format_duration, parse_duration

_EVENT_ID = re.compile(r"^[0-9a-f]{64}$")
REMARK_MAX = 2000


class Activity(StrEnum):
    MISSILE_LAUNCH = "missile_launch"
    AIR_PATROL = "air_patrol"
    SURVEILLANCE_FLIGHT = "surveillance_flight"
    NAVAL_EXERCISE = "naval_exercise"
    STRATEGIC_EXERCISE = "strategic_exercise"
    GROUND_MANOEUVRE = "ground_manoeuvre"
    OTHER = "other"


class IntentOp(StrEnum):
    NOTIFY = "notify"
    AMEND = "amend"
    CANCEL = "cancel"


#: Minimum notice by activity (configurable per node: setting ``lead_times``).
DEFAULT_LEAD_TIMES: dict[Activity, timedelta] = {
    Activity.MISSILE_LAUNCH: timedelta(hours=24),
    Activity.NAVAL_EXERCISE: timedelta(days=3),
    Activity.STRATEGIC_EXERCISE: timedelta(days=14),
}


class ShortNotice(Refused):
    """A notification gives less notice than its activity's rule asks: the sender must
    confirm it (the confirmation is recorded on the event)."""

    def __init__(self, activity: Activity, required: timedelta, given: timedelta) -> None:
        super().__init__(
            f"a {activity.value.replace('_', ' ')} needs {_human(required)} notice; "
            f"this one gives {_human(given)}",
            hint="send it anyway with --confirm-short-notice (recorded on the event), "
            "or move the window",
        )
        self.required = required
        self.given = given
        self.extra = {
            "short_notice": {
                "required_seconds": int(required.total_seconds()),
                "given_seconds": max(0, int(given.total_seconds())),
            }
        }


def _human(delta: timedelta) -> str:
    """``11h 59m``, ``3d``, ``45m``, ``20s``: the notice given or required, in words."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 2 * 86400 and seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600}h"  # 24h, as the agreements write it
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    text = " ".join(p for p in parts if p)
    return text or f"{secs}s"


def parse_activity(text: str) -> Activity:
    value = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Activity(value)
    except ValueError:
        raise InvalidInput(
            "activity",
            f"unknown activity {text!r}",
            hint="use one of " + ", ".join(a.value for a in Activity),
        ) from None


def parse_lead_times(text: str) -> dict[Activity, timedelta]:
    """``missile_launch=24h,naval_exercise=3d`` (empty: no rules). Raises InvalidInput."""
    rules: dict[Activity, timedelta] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput("lead_times", f"{item!r} is not ACTIVITY=DURATION")
        rules[parse_activity(name)] = parse_duration(value, field="lead time")
    return rules


def format_lead_times(rules: Mapping[Activity, timedelta]) -> str:
    return ",".join(f"{a.value}={format_duration(d)}" for a, d in rules.items())


@dataclass(frozen=True)
class Notice:
    """What a lead-time rule says of a notification sent at ``now``."""

    required: timedelta | None
    given: timedelta

    @property
    def short(self) -> bool:
        return self.required is not None and self.given < self.required


def notice(
    activity: Activity, start: datetime, now: datetime, rules: Mapping[Activity, timedelta]
) -> Notice:
    return Notice(rules.get(activity), start - now)


def intent_block(
    op: IntentOp, of: str | None = None, short: Notice | None = None, confirmed_by: str = ""
) -> dict[str, Any]:
    block: dict[str, Any] = {"op": op.value}
    if of is not None:
        block["of"] = of
    if short is not None and short.short and short.required is not None:
        block["short_notice"] = {
            "required": _human(short.required),
            "given": _human(short.given),
            "confirmed_by": confirmed_by,
        }
    return block


def check_intent(content: Mapping[str, Any]) -> dict[str, Any]:
    """Check the intent block of a message's content against the rest of it; returns the
    block in normal form. Raises InvalidInput naming the field that is wrong."""
    block = content.get("intent")
    if not isinstance(block, Mapping):
        raise InvalidInput("intent", "the intent block is an object")
    extra = sorted(str(k) for k in set(block) - {"op", "of", "short_notice"})
    if extra:
        raise InvalidInput("intent", f"unknown field(s) {', '.join(extra)}")
    try:
        op = IntentOp(str(block.get("op")))
    except ValueError:
        raise InvalidInput("intent", "op is notify, amend or cancel") from None
    if content.get("kind") != "notification":
        raise InvalidInput("kind", "a notification of intent has kind notification")
    normal: dict[str, Any] = {"op": op.value}
    if op is IntentOp.NOTIFY:
        if "of" in block:
            raise InvalidInput("intent", "a new notification refers to none ('of')")
    else:
        of = block.get("of")
        of = of.strip().lower() if isinstance(of, str) else of
        if not isinstance(of, str) or not _EVENT_ID.match(of):
            raise InvalidInput(
                "intent", f"an {op.value} names the notification it changes ('of': event id)"
            )
        normal["of"] = of
    if op is not IntentOp.CANCEL:
        if not isinstance(content.get("activity"), str):
            raise InvalidInput("activity", "a notification of intent needs an activity type")
        parse_activity(content["activity"])
        for field, what in (
            ("window", "a time window (--start, --end)"),
            ("area", "an area (--area)"),
        ):
            if content.get(field) is None:
                raise InvalidInput(field, f"a notification of intent needs {what}")
        if not content.get("units"):
            raise InvalidInput("units", "a notification of intent names its units or assets")
    short = block.get("short_notice")
    if short is not None:
        if (
            not isinstance(short, Mapping)
            or set(short) != {"required", "given", "confirmed_by"}
            or not all(isinstance(v, str) for v in short.values())
        ):
            raise InvalidInput("intent", "short_notice is {required, given, confirmed_by}")
        normal["short_notice"] = dict(short)
    return normal


def check_window_ahead(end: datetime, now: datetime) -> None:
    if end <= now:
        raise InvalidInput(
            "window", "the window is in the past", hint="a notification announces what is to come"
        )


#: How each activity reads in the languages the starter catalogue covers.
ACTIVITY_LABELS: dict[Activity, dict[str, str]] = {
    Activity.MISSILE_LAUNCH: {
        "en": "missile launch",
        "ru": "пуск ракеты",
        "zh": "导弹发射",
        "ko": "미사일 발사",
    },
    Activity.AIR_PATROL: {
        "en": "air patrol",
        "ru": "воздушное патрулирование",
        "zh": "空中巡逻",
        "ko": "공중 초계",
    },
    Activity.SURVEILLANCE_FLIGHT: {
        "en": "surveillance flight",
        "ru": "разведывательный полёт",
        "zh": "侦察飞行",
        "ko": "정찰 비행",
    },
    Activity.NAVAL_EXERCISE: {
        "en": "naval exercise",
        "ru": "военно-морские учения",
        "zh": "海上演习",
        "ko": "해상 훈련",
    },
    Activity.STRATEGIC_EXERCISE: {
        "en": "strategic exercise",
        "ru": "стратегические учения",
        "zh": "战略演习",
        "ko": "전략 훈련",
    },
    Activity.GROUND_MANOEUVRE: {
        "en": "ground manoeuvre",
        "ru": "сухопутные манёвры",
        "zh": "地面机动",
        "ko": "지상 기동",
    },
    Activity.OTHER: {
        "en": "other activity",
        "ru": "иная деятельность",
        "zh": "其他活动",
        "ko": "기타 활동",
    },
}

_WORDS = {
    "en": ("Notification of intent", "amended", "cancelled", "from", "to", "area", "units"),
    "ru": ("Уведомление о намерениях", "изменено", "отменено", "с", "до", "район", "силы"),
    "zh": ("意图通报", "已修改", "已撤销", "自", "至", "区域", "兵力"),
    "ko": ("사전 통보", "수정", "취소", "기간", "~", "구역", "부대 및 장비"),
}


def render_intent(content: Mapping[str, Any], lang: str, area_text: str | None) -> str:
    """The structured part of a notification in ``lang`` (English where not covered)."""
    words = _WORDS.get(lang, _WORDS["en"])
    block = content.get("intent") or {}
    op = block.get("op")
    head = words[0] + (
        f" ({words[1]})" if op == "amend" else f" ({words[2]})" if op == "cancel" else ""
    )
    lines = [head]
    activity = content.get("activity")
    if isinstance(activity, str) and activity in set(Activity):
        labels = ACTIVITY_LABELS[Activity(activity)]
        lines.append(labels.get(lang, labels["en"]))
    window = content.get("window")
    if isinstance(window, Mapping):
        lines.append(f"{words[3]} {window['start']} {words[4]} {window['end']}")
    if area_text:
        lines.append(f"{words[5]}: {area_text}")
    if content.get("units"):
        lines.append(f"{words[6]}: {', '.join(content['units'])}")
    return "\n".join(lines)
