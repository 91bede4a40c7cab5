"""Notifications of intent, pre-agreed messages, translation and the watch roster
through the command line, on one node hosting both parties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import Run

LINE = "us-ru-deconfliction"
CIRCLE = '{"center":[-120.6,34.7],"radius":10,"unit":"km"}'


def utc(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def last_message(run: Run) -> str:
    events = run("log", LINE, "--json", ok=True).json()
    return str([e["id"] for e in events if e["body"]["kind"] == "message"][-1])


@pytest.fixture
def ops(lab: Run) -> Run:
    for desk in ("RU/TRANS-A", "RU/TRANS-B", "US/TRANS-A"):
        lab("principal", "add", desk, "--role", "translator", ok=True)
    return lab


def test_a_launch_notice_12_hours_ahead_asks_for_confirmation(ops: Run) -> None:
    args = (
        "notice",
        "send",
        "--line",
        LINE,
        "--as",
        "US/EUCOM-JOC",
        "--activity",
        "missile_launch",
        "--start",
        utc(12),
        "--end",
        utc(13),
        "--area",
        CIRCLE,
        "--unit",
        "30th Space Wing",
        "--remark",
        "Test launch.",
    )
    refused = ops(*args)
    assert refused.code == 5
    assert "a missile launch needs 24h notice" in refused.err
    assert "--confirm-short-notice" in refused.err
    assert ops("notice", "list", "--json", ok=True).json() == []  # nothing stored
    sent = ops(*args, "--confirm-short-notice", ok=True)
    assert "short notice recorded" in sent.out and "confirmed by US/EUCOM-JOC" in sent.out
    (notice,) = ops("notice", "list", "--json", ok=True).json()
    assert notice["short_notice"]["required"] == "24h"
    assert notice["short_notice"]["confirmed_by"] == "US/EUCOM-JOC"
    read = ops("read", notice["id"][:12], "--lang", "ru", ok=True).out
    assert "Уведомление о намерениях" in read and "пуск ракеты" in read
    assert "10 км вокруг 34.7000С 120.6000З" in read
    assert notice["window"]["start"][:16] in read
    ops("notice", "cancel", notice["id"][:12], "--as", "US/EUCOM-JOC", "--reason", "Off.", ok=True)
    assert ops("notice", "list", "--json", ok=True).json()[0]["state"] == "cancelled"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("--activity", "picnic"), "unknown activity 'picnic'"),
        (("--area", '{"center":[10,95],"radius":5}'), "latitude 95.0 is outside -90..90"),
        (("--start", utc(-3), "--end", utc(-2)), "the window is in the past"),
        (("--unit", " "), "name the units or assets"),
    ],
)
def test_a_bad_notification_is_refused_with_what_is_wrong(
    ops: Run, change: tuple[str, ...], says: str
) -> None:
    fields = {
        "--activity": "air_patrol",
        "--start": utc(30),
        "--end": utc(31),
        "--area": CIRCLE,
        "--unit": "2 x F-35A",
    }
    for key, value in zip(change[::2], change[1::2], strict=True):
        fields[key] = value
    flat = [x for pair in fields.items() for x in pair]
    done = ops("notice", "send", "--line", LINE, "--as", "US/EUCOM-JOC", *flat)
    assert done.code == 2, done.err
    assert says in done.err


def test_pre_agreed_messages_read_in_each_language(ops: Run) -> None:
    not_yet = ops(
        "catalogue",
        "send",
        "--line",
        LINE,
        "--as",
        "US/EUCOM-JOC",
        "OLIVE",
        "1",
        "--slot",
        "activity=air patrol",
    )
    assert not_yet.code == 5
    assert "no catalogue is in force" in not_yet.err
    ops("catalogue", "import", "starter", ok=True)
    ops("catalogue", "adopt", LINE, "starter", ok=True)
    ops("catalogue", "adopt", LINE, "starter", "--party", "RU", ok=True)
    assert "in force: hotline-starter v1" in ops("catalogue", "status", LINE, ok=True).out
    ops(
        "catalogue",
        "send",
        "--line",
        LINE,
        "--as",
        "US/EUCOM-JOC",
        "OLIVE",
        "1",
        "--slot",
        "activity=air patrol",
        ok=True,
    )
    message = last_message(ops)
    ru = ops("read", message[:12], "--lang", "ru", "--json", ok=True).json()
    assert ru["catalogue"]["title"] == "OLIVE 1: Не направлено против вас"
    assert ru["catalogue"]["text"] == (
        "Проводимое сейчас мероприятие (air patrol) не направлено против вас."
    )
    en = ops("read", message[:12], "--lang", "en", "--json", ok=True).json()
    assert en["catalogue"]["text"] == "The air patrol now under way is not directed at you."
    wrong = ops(
        "catalogue",
        "send",
        "--line",
        LINE,
        "--as",
        "US/EUCOM-JOC",
        "MAYDAY",
        "1",
        "--slot",
        "aircraft=RCH123",
        "--slot",
        f"area={CIRCLE}",
        "--slot",
        "heading=north",
    )
    assert wrong.code == 2
    assert "slot heading (int): 'north' is not a whole number" in wrong.err


def test_a_query_in_russian_is_translated_and_certified(ops: Run) -> None:
    ops(
        "send",
        "--line",
        LINE,
        "--as",
        "RU/NDMC",
        "--kind",
        "query",
        "--precedence",
        "IMMEDIATE",
        "--subject",
        "Что за активность?",
        "--body",
        "Просим разъяснить полёты над морем.",
        "--lang",
        "ru",
        ok=True,
    )
    query = last_message(ops)
    own_side = ops(
        "translation", "add", query[:12], "--as", "RU/TRANS-A", "--lang", "en", "--body", "x"
    )
    assert own_side.code == 5
    assert "the receiving side does" in own_side.err
    ops(
        "translation",
        "add",
        query[:12],
        "--as",
        "US/TRANS-A",
        "--lang",
        "en",
        "--subject",
        "What is this activity?",
        "--body",
        "Please explain the flights.",
        ok=True,
    )
    (translation,) = ops("translation", "show", query[:12], "--json", ok=True).json()[
        "translations"
    ]
    assert translation["state"] == "uncertified"
    self_certified = ops("translation", "certify", translation["id"][:12], "--as", "US/TRANS-A")
    assert self_certified.code == 5
    read = ops("read", query[:12], ok=True).out
    assert "Просим разъяснить полёты над морем." in read and "uncertified" in read
    machine = ops("translation", "machine", query[:12], "--as", "US/TRANS-A", "--lang", "en")
    assert machine.code == 5 and "machine translation is off" in machine.err


def test_the_watch_roster_across_zones_and_the_officer_on_an_ack(ops: Run, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    moscow = now + timedelta(hours=3)  # Moscow is UTC+3 all year
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "desk,officer,start,end,tz\n"
        f"RU/NDMC,Maj. Ivanov,{(moscow - timedelta(hours=1)):%Y-%m-%dT%H:%M},"
        f"{(moscow + timedelta(hours=1)):%Y-%m-%dT%H:%M},Europe/Moscow\n"
        f"RU/NDMC,Capt. Petrov,{(moscow + timedelta(hours=1)):%Y-%m-%dT%H:%M},"
        f"{(moscow + timedelta(hours=9)):%Y-%m-%dT%H:%M},Europe/Moscow\n",
        "utf-8",
    )
    assert "imported 2 shifts" in ops("watch", "import", str(roster), ok=True).out
    board = ops("watch", "--party", "RU", "--json", ok=True).json()["desks"]
    ndmc = next(d for d in board if d["desk"] == "RU/NDMC")
    assert (ndmc["on_watch"], ndmc["next"]) == ("Maj. Ivanov", "Capt. Petrov")
    later = ops("watch", "--party", "RU", "--at", utc(1.5), "--json", ok=True).json()
    assert next(d for d in later["desks"] if d["desk"] == "RU/NDMC")["on_watch"] == "Capt. Petrov"
    ops(
        "send",
        "--line",
        LINE,
        "--as",
        "US/EUCOM-JOC",
        "--subject",
        "Flight",
        "--body",
        "Baltic.",
        ok=True,
    )
    acked = ops("ack", last_message(ops)[:12], "--as", "RU/NDMC", ok=True)
    assert "Maj. Ivanov on watch" in acked.out
    handover = ops(
        "watch", "handover", "RU/NDMC", "--to", "Capt. Petrov", "--note", "Quiet.", ok=True
    )
    assert "Maj. Ivanov -> Capt. Petrov" in handover.out
    bad = ops(
        "watch",
        "add",
        "RU/NDMC",
        "--officer",
        "X",
        "--from",
        "2026-03-01T08:00",
        "--to",
        "2026-03-01T16:00",
        "--tz",
        "Mars/Olympus",
    )
    assert bad.code == 2 and "unknown time zone" in bad.err
    assert ops("verify").code == 0
