"""Lines and their policies (hotline.domain.policy) and precedence (hotline.domain.precedence).

make_line builds terms with the defaults for its kind and refuses terms that cannot
work; check_send refuses a message the line's policy forbids, and says where it could
go instead; terms survive a JSON round trip with the same terms id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from hotline.domain.canonical import content_id
from hotline.domain.errors import InvalidInput, PolicyRefused
from hotline.domain.policy import (
    DEFAULT_CONTACT_WINDOW,
    DEFAULT_KINDS,
    Line,
    LineKind,
    LineState,
    LineStatus,
    MessageKind,
    Policy,
    check_member,
    check_send,
    make_line,
    parse_line_id,
    parse_line_kind,
    parse_message_kind,
)
from hotline.domain.precedence import (
    DEFAULT_DEADLINES,
    Precedence,
    format_duration,
    parse_duration,
    parse_precedence,
)

ALL_KINDS = frozenset(MessageKind)


def deconfliction() -> Line:
    return make_line(
        line_id="us-ru-deconfliction",
        kind=LineKind.DECONFLICTION,
        title="Deconfliction",
        principals=["US/EUCOM-JOC", "RU/NDMC"],
    )


def attache() -> Line:
    return make_line(
        line_id="us-ru-attache",
        kind=LineKind.RELAY,
        title="Attaché relay",
        principals=["US/DATT-MOSCOW", "US/EUCOM-JOC", "RU/MINDEF"],
    )


def leaders() -> Line:
    return make_line(
        line_id="us-ru-leaders",
        kind=LineKind.LEADERS,
        title="Leaders",
        principals=["US/POTUS", "RU/KREMLIN"],
    )


# --- make_line -------------------------------------------------------------------------


def test_make_line_defaults() -> None:
    line = deconfliction()
    assert line.id == "us-ru-deconfliction"
    assert line.kind is LineKind.DECONFLICTION
    assert line.title == "Deconfliction"
    assert line.parties == ("RU", "US")
    assert line.policy.principals == ("US/EUCOM-JOC", "RU/NDMC")
    assert line.policy.flash_max_words == 200
    assert line.policy.contact_window == timedelta(hours=48)
    assert line.policy.deadline(Precedence.FLASH) == timedelta(minutes=10)
    assert line.policy.deadline(Precedence.IMMEDIATE) == timedelta(minutes=30)
    assert line.policy.deadline(Precedence.PRIORITY) == timedelta(hours=3)
    assert line.policy.deadline(Precedence.ROUTINE) == timedelta(hours=6)


def test_default_deadline_table() -> None:
    assert dict(DEFAULT_DEADLINES) == {
        Precedence.FLASH: timedelta(minutes=10),
        Precedence.IMMEDIATE: timedelta(minutes=30),
        Precedence.PRIORITY: timedelta(hours=3),
        Precedence.ROUTINE: timedelta(hours=6),
    }


def test_a_deconfliction_line_takes_everything_but_protest() -> None:
    kinds = deconfliction().policy.kinds
    assert MessageKind.PROTEST not in kinds
    assert kinds == ALL_KINDS - {MessageKind.PROTEST}


def test_a_relay_line_takes_every_kind() -> None:
    assert attache().policy.kinds == ALL_KINDS
    assert DEFAULT_KINDS[LineKind.RELAY] == ALL_KINDS


def test_a_leaders_line_takes_protest_but_not_test() -> None:
    kinds = leaders().policy.kinds
    assert MessageKind.PROTEST in kinds
    assert MessageKind.TEST not in kinds


def test_make_line_normalises_ids() -> None:
    line = make_line(
        line_id="  US-RU-Test ",
        kind=LineKind.SERVICE,
        title="  ",
        principals=[" us/eucom-joc", "ru/ndmc "],
    )
    assert line.id == "us-ru-test"
    assert line.policy.principals == ("US/EUCOM-JOC", "RU/NDMC")
    assert line.title


def test_make_line_takes_explicit_kinds_deadlines_and_window() -> None:
    line = make_line(
        line_id="us-ru-test",
        kind=LineKind.SERVICE,
        title="t",
        principals=["US/A", "RU/B"],
        kinds=[MessageKind.TEST],
        deadlines={Precedence.ROUTINE: timedelta(hours=12)},
        contact_window=timedelta(hours=6),
    )
    assert line.policy.kinds == frozenset({MessageKind.TEST})
    assert line.policy.deadline(Precedence.ROUTINE) == timedelta(hours=12)
    assert line.policy.deadline(Precedence.FLASH) == timedelta(minutes=10)
    assert line.policy.contact_window == timedelta(hours=6)


def test_three_parties() -> None:
    line = make_line(
        line_id="nato-ru",
        kind=LineKind.DECONFLICTION,
        title="t",
        principals=["US/A", "RU/B", "NATO/SHAPE"],
    )
    assert line.parties == ("NATO", "RU", "US")
    assert line.other_parties("RU") == ("NATO", "US")
    assert line.principals_of("NATO") == ("NATO/SHAPE",)


@pytest.mark.parametrize(
    "principals",
    [[], ["US/EUCOM-JOC"], ["US/EUCOM-JOC", "US/DATT-MOSCOW"]],
    ids=["none", "one", "one-party"],
)
def test_make_line_refuses_fewer_than_two_parties(principals: list[str]) -> None:
    with pytest.raises(InvalidInput, match="at least two parties") as caught:
        make_line(line_id="us-only", kind=LineKind.SERVICE, title="t", principals=principals)
    assert caught.value.field == "principal"
    assert caught.value.hint is not None
    assert "--member" in caught.value.hint


def test_make_line_refuses_a_duplicate_member() -> None:
    with pytest.raises(InvalidInput, match="listed twice"):
        make_line(
            line_id="us-ru",
            kind=LineKind.SERVICE,
            title="t",
            principals=["US/EUCOM-JOC", "RU/NDMC", "us/eucom-joc"],
        )


@pytest.mark.parametrize(
    "deadlines",
    [
        {Precedence.FLASH: timedelta(hours=1)},
        {Precedence.ROUTINE: timedelta(hours=2)},
        {Precedence.IMMEDIATE: timedelta(minutes=5)},
    ],
    ids=["flash-longer-than-immediate", "routine-shorter-than-priority", "immediate-short"],
)
def test_make_line_refuses_deadlines_that_grow_with_precedence(
    deadlines: dict[Precedence, timedelta],
) -> None:
    with pytest.raises(InvalidInput, match="longer deadline") as caught:
        make_line(
            line_id="us-ru",
            kind=LineKind.SERVICE,
            title="t",
            principals=["US/A", "RU/B"],
            deadlines=deadlines,
        )
    assert caught.value.field == "deadline"
    assert caught.value.hint == "keep FLASH <= IMMEDIATE <= PRIORITY <= ROUTINE"


def test_make_line_allows_equal_deadlines() -> None:
    same = {p: timedelta(minutes=10) for p in Precedence}
    line = make_line(
        line_id="us-ru",
        kind=LineKind.SERVICE,
        title="t",
        principals=["US/A", "RU/B"],
        deadlines=same,
    )
    assert all(line.policy.deadline(p) == timedelta(minutes=10) for p in Precedence)


def test_make_line_refuses_no_kinds() -> None:
    with pytest.raises(InvalidInput, match="at least one message kind"):
        make_line(
            line_id="us-ru", kind=LineKind.SERVICE, title="t", principals=["US/A", "RU/B"], kinds=[]
        )


@pytest.mark.parametrize(
    "line_id", ["a", "-us-ru", "us_ru", "us ru", "us/ru", "ü-line", "x" * 65, ""]
)
def test_make_line_refuses_a_bad_line_id(line_id: str) -> None:
    with pytest.raises(InvalidInput, match="is not a line id") as caught:
        make_line(line_id=line_id, kind=LineKind.SERVICE, title="t", principals=["US/A", "RU/B"])
    assert caught.value.field == "line"
    assert caught.value.hint is not None


@pytest.mark.parametrize("principal", ["US", "US/", "/DESK", "1US/DESK", "US/desk space"])
def test_make_line_refuses_a_bad_principal(principal: str) -> None:
    with pytest.raises(InvalidInput, match="is not a principal id"):
        make_line(line_id="us-ru", kind=LineKind.SERVICE, title="t", principals=["RU/B", principal])


def test_parse_line_id() -> None:
    assert parse_line_id(" Us-Ru-1 ") == "us-ru-1"
    assert parse_line_id("ab") == "ab"
    assert parse_line_id("a" * 64) == "a" * 64


def test_parse_line_kind_and_message_kind() -> None:
    assert parse_line_kind(" Relay ") is LineKind.RELAY
    assert parse_message_kind("PROTEST") is MessageKind.PROTEST
    with pytest.raises(InvalidInput, match="unknown line kind") as caught:
        parse_line_kind("hotline")
    assert caught.value.hint is not None
    assert "deconfliction" in caught.value.hint
    with pytest.raises(InvalidInput, match="unknown message kind") as caught:
        parse_message_kind("complaint")
    assert caught.value.hint is not None
    assert "protest" in caught.value.hint


# --- check_send ------------------------------------------------------------------------


def test_check_send_allows_a_member_and_a_taken_kind() -> None:
    check_send(deconfliction(), "US/EUCOM-JOC", MessageKind.WARNING, Precedence.FLASH, "short")


def test_a_protest_on_a_deconfliction_line_names_the_relay_line() -> None:
    decon, relay = deconfliction(), attache()
    with pytest.raises(PolicyRefused) as caught:
        check_send(
            decon,
            "US/EUCOM-JOC",
            MessageKind.PROTEST,
            Precedence.ROUTINE,
            "We protest.",
            lines_of_sender=[decon, relay],
        )
    err = caught.value
    assert err.alternatives == ("us-ru-attache",)
    assert "protest is not allowed on line us-ru-deconfliction" in str(err)
    assert "deconfliction line" in str(err)
    assert err.hint is not None
    assert "us-ru-attache" in err.hint


def test_alternatives_only_name_lines_the_sender_is_on() -> None:
    decon = deconfliction()
    leaders_line = leaders()
    with pytest.raises(PolicyRefused) as caught:
        check_send(
            decon,
            "US/EUCOM-JOC",
            MessageKind.PROTEST,
            Precedence.ROUTINE,
            "We protest.",
            lines_of_sender=[decon, attache(), leaders_line],
        )
    assert caught.value.alternatives == ("us-ru-attache",)


def test_a_refused_kind_with_no_line_that_takes_it_says_so() -> None:
    decon = deconfliction()
    with pytest.raises(PolicyRefused) as caught:
        check_send(
            decon,
            "US/EUCOM-JOC",
            MessageKind.PROTEST,
            Precedence.ROUTINE,
            "We protest.",
            lines_of_sender=[decon],
        )
    err = caught.value
    assert err.alternatives == ()
    assert err.hint is not None
    assert "no line of yours takes it" in err.hint
    assert "leaders and relay lines do" in err.hint


def test_check_send_refuses_a_non_member_and_lists_the_partys_members() -> None:
    relay = attache()
    with pytest.raises(PolicyRefused) as caught:
        check_send(relay, "US/SECDEF", MessageKind.NOTIFICATION, Precedence.ROUTINE, "text")
    err = caught.value
    assert str(err) == "US/SECDEF is not on line us-ru-attache"
    assert err.hint == "principals of US on this line: US/DATT-MOSCOW, US/EUCOM-JOC"


def test_a_non_member_whose_party_has_nobody_on_the_line() -> None:
    with pytest.raises(PolicyRefused) as caught:
        check_member(deconfliction(), "NATO/SHAPE")
    assert caught.value.hint == "principals of NATO on this line: none"


def test_membership_is_checked_before_kind() -> None:
    with pytest.raises(PolicyRefused, match="is not on line"):
        check_send(deconfliction(), "US/SECDEF", MessageKind.PROTEST, Precedence.ROUTINE, "x")


def test_flash_is_limited_to_200_words() -> None:
    line = deconfliction()
    check_send(line, "RU/NDMC", MessageKind.WARNING, Precedence.FLASH, " ".join(["w"] * 200))
    with pytest.raises(PolicyRefused, match="limited to 200 words") as caught:
        check_send(line, "RU/NDMC", MessageKind.WARNING, Precedence.FLASH, " ".join(["w"] * 201))
    assert "this one has 201" in str(caught.value)
    assert caught.value.hint == "shorten it, or send it as IMMEDIATE"


def test_the_word_limit_is_for_flash_only() -> None:
    long_body = " ".join(["w"] * 1000)
    check_send(deconfliction(), "RU/NDMC", MessageKind.WARNING, Precedence.IMMEDIATE, long_body)


# --- terms -----------------------------------------------------------------------------


@pytest.mark.parametrize("build", [deconfliction, attache, leaders])
def test_terms_round_trip(build: Callable[[], Line]) -> None:
    line = build()
    again = Line.from_terms(line.terms())
    assert again.terms() == line.terms()
    assert again.terms_id() == line.terms_id()
    assert again.id == line.id
    assert again.kind is line.kind
    assert again.parties == line.parties
    assert set(again.policy.principals) == set(line.policy.principals)
    assert again.policy.kinds == line.policy.kinds
    assert dict(again.policy.deadlines) == dict(line.policy.deadlines)
    assert again.policy.contact_window == line.policy.contact_window


def test_policy_json_round_trip() -> None:
    policy = attache().policy
    data = policy.to_json()
    assert data == {
        "principals": ["RU/MINDEF", "US/DATT-MOSCOW", "US/EUCOM-JOC"],
        "kinds": sorted(k.value for k in MessageKind),
        "deadlines": {"FLASH": "10m", "IMMEDIATE": "30m", "PRIORITY": "3h", "ROUTINE": "6h"},
        "flash_max_words": 200,
        "contact_window": "2d",
    }
    assert Policy.from_json(data).to_json() == data


def test_terms_shape() -> None:
    terms = deconfliction().terms()
    assert list(terms) == ["id", "kind", "title", "parties", "policy"]
    assert terms["kind"] == "deconfliction"
    assert terms["parties"] == ["RU", "US"]
    assert "protest" not in terms["policy"]["kinds"]


def test_terms_id_is_the_content_id_of_the_terms_and_stable() -> None:
    line = deconfliction()
    assert line.terms_id() == content_id(line.terms())
    assert deconfliction().terms_id() == line.terms_id()
    reordered = make_line(
        line_id="us-ru-deconfliction",
        kind=LineKind.DECONFLICTION,
        title="Deconfliction",
        principals=["RU/NDMC", "US/EUCOM-JOC"],
    )
    assert reordered.terms_id() == line.terms_id()


def test_terms_id_changes_with_any_term() -> None:
    base = deconfliction().terms_id()
    other_title = make_line(
        line_id="us-ru-deconfliction",
        kind=LineKind.DECONFLICTION,
        title="Other",
        principals=["US/EUCOM-JOC", "RU/NDMC"],
    )
    other_deadline = make_line(
        line_id="us-ru-deconfliction",
        kind=LineKind.DECONFLICTION,
        title="Deconfliction",
        principals=["US/EUCOM-JOC", "RU/NDMC"],
        deadlines={Precedence.FLASH: timedelta(minutes=5)},
    )
    assert other_title.terms_id() != base
    assert other_deadline.terms_id() != base


def test_malformed_terms_are_invalid() -> None:
    terms = deconfliction().terms()
    del terms["policy"]
    with pytest.raises(InvalidInput, match="malformed line terms"):
        Line.from_terms(terms)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("flash_max_words", "many"),
        ("contact_window", "soon"),
        ("deadlines", {"FLASH": "0m"}),
        ("deadlines", {"SOON": "10m"}),
        ("kinds", ["complaint"]),
        ("principals", ["nobody"]),
    ],
)
def test_malformed_policy_is_invalid(key: str, value: object) -> None:
    data = deconfliction().policy.to_json()
    data[key] = value
    with pytest.raises(InvalidInput):
        Policy.from_json(data)


def test_a_policy_missing_a_field_is_invalid() -> None:
    data = deconfliction().policy.to_json()
    del data["kinds"]
    with pytest.raises(InvalidInput, match="malformed policy"):
        Policy.from_json(data)


@pytest.mark.parametrize("where", ["id", "kind", "principal", "message-kind"])
def test_terms_with_a_non_string_value_are_invalid(where: str) -> None:
    terms = deconfliction().terms()
    if where in ("id", "kind"):
        terms[where] = 5
    elif where == "principal":
        terms["policy"]["principals"] = [5]
    else:
        terms["policy"]["kinds"] = [5]
    with pytest.raises(InvalidInput):
        Line.from_terms(terms)


def test_terms_missing_a_deadline_are_invalid() -> None:
    terms = deconfliction().terms()
    terms["policy"]["deadlines"] = {"FLASH": "10m"}
    with pytest.raises(InvalidInput):
        Line.from_terms(terms).terms_id()


def test_line_state_waits_for_parties_that_have_not_signed() -> None:
    state = LineState(
        line=deconfliction(),
        status=LineStatus.PROPOSED,
        proposed_by="US",
        accepted_by=frozenset({"US"}),
        created_at="2026-03-01T12:00:00.000Z",
    )
    assert state.waiting_for == ("RU",)


def test_default_contact_window() -> None:
    assert deconfliction().policy.contact_window == DEFAULT_CONTACT_WINDOW == timedelta(hours=48)


# --- precedence ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FLASH", Precedence.FLASH),
        ("flash", Precedence.FLASH),
        (" Immediate ", Precedence.IMMEDIATE),
        ("priority", Precedence.PRIORITY),
        ("ROUTINE", Precedence.ROUTINE),
        ("Z", Precedence.FLASH),
        ("z", Precedence.FLASH),
        ("O", Precedence.IMMEDIATE),
        ("P", Precedence.PRIORITY),
        ("r", Precedence.ROUTINE),
    ],
)
def test_parse_precedence(text: str, expected: Precedence) -> None:
    assert parse_precedence(text) is expected


@pytest.mark.parametrize("text", ["", "URGENT", "F", "Y", "FLASH OVERRIDE"])
def test_parse_precedence_refuses_unknown(text: str) -> None:
    with pytest.raises(InvalidInput, match="unknown precedence") as caught:
        parse_precedence(text)
    assert caught.value.field == "precedence"
    assert caught.value.hint == "use one of FLASH, IMMEDIATE, PRIORITY, ROUTINE"


def test_precedence_rank_is_most_urgent_first() -> None:
    assert [p.rank for p in Precedence] == [0, 1, 2, 3]
    assert sorted(Precedence, key=lambda p: p.rank)[0] is Precedence.FLASH


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("3h", timedelta(hours=3)),
        ("2d", timedelta(days=2)),
        ("45 sec", timedelta(seconds=45)),
        ("10 MIN", timedelta(minutes=10)),
        ("5mins", timedelta(minutes=5)),
        ("1hr", timedelta(hours=1)),
        ("2hrs", timedelta(hours=2)),
        ("2 days", timedelta(days=2)),
        (" 7d ", timedelta(days=7)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0m", "-5m", "5", "1.5h", "5w", "m", "10 m m"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a positive duration") as caught:
        parse_duration(text, field="deadline FLASH")
    assert caught.value.field == "deadline FLASH"
    assert caught.value.hint == "write e.g. 90s, 10m, 3h or 2d"


def test_parse_duration_refuses_milliseconds() -> None:
    with pytest.raises(InvalidInput):
        parse_duration("10ms")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=90), "90s"),
        (timedelta(seconds=59), "59s"),
        (timedelta(minutes=10), "10m"),
        (timedelta(minutes=61), "61m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=25), "25h"),
        (timedelta(hours=48), "2d"),
    ],
)
def test_format_duration_is_the_shortest_exact_form(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text
    assert parse_duration(text) == delta
