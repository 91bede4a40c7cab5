"""Scenarios (hotline.domain.scenario): the real Baltic 2022 file, then that file broken
one thing at a time.

Each broken copy must be refused with an InvalidInput whose ``field`` names the place
(``steps[4].send``, ``setup.lines[0].members``...) and whose message says what is wrong,
because a scenario author reads nothing else to fix the file.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline.domain.errors import InvalidInput
from hotline.domain.scenario import Scenario, parse_offset, parse_scenario

BALTIC_FILE = Path(__file__).parents[2] / "src/hotline/scenarios/baltic-2022.yaml"
BALTIC: dict[str, Any] = yaml.safe_load(BALTIC_FILE.read_text(encoding="utf-8"))

# Indexes of steps in baltic-2022.yaml that the broken copies below change.
SAY_FIRST = 0  # at: 0, say only
CALL1 = 1  # request from US/SECDEF, name call1
ANSWER_CALL1 = 3  # answer call1 as RU/MINDEF
FLIGHT1 = 4  # send on us-ru-deconfliction, name flight1
ACK_FLIGHT1 = 5  # ack flight1
TRACKS = 9  # tracks to US
Q1 = 10  # draft, name q1
OUTAGE = 12  # outage 15 minutes

Change = Callable[[dict[str, Any]], None]


def baltic() -> dict[str, Any]:
    """A fresh deep copy of the real scenario mapping, to break."""
    return copy.deepcopy(BALTIC)


def refusal(change: Change) -> InvalidInput:
    """Parse baltic-2022 with ``change`` applied; return the InvalidInput raised."""
    data = baltic()
    change(data)
    with pytest.raises(InvalidInput) as info:
        parse_scenario(data)
    return info.value


def step(data: dict[str, Any], index: int) -> dict[str, Any]:
    item: dict[str, Any] = data["steps"][index]
    return item


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return parse_scenario(baltic())


# --- the real file -------------------------------------------------------------------


def test_baltic_parses_with_its_header(scenario: Scenario) -> None:
    assert scenario.id == "baltic-2022"
    assert scenario.title.startswith("Spring 2022")
    assert scenario.start == datetime(2022, 3, 1, 9, 0, tzinfo=UTC)
    assert scenario.speed == 120
    assert scenario.jump == timedelta(minutes=30)
    assert set(scenario.setup) == {"parties", "principals", "lines"}


def test_baltic_has_its_nineteen_steps_in_time_order(scenario: Scenario) -> None:
    assert len(scenario.steps) == 19
    assert [s.index for s in scenario.steps] == list(range(19))
    offsets = [s.at for s in scenario.steps]
    assert offsets == sorted(offsets)
    assert offsets[0] == timedelta(0)
    assert scenario.length == timedelta(days=73, hours=6)


def test_baltic_principals_are_those_who_act(scenario: Scenario) -> None:
    # RU/CGS is only ever asked (request.to); nobody acts as the attaché or RU/OPS.
    assert scenario.principals() == {
        "US/SECDEF",
        "US/CJCS",
        "US/EUCOM-JOC",
        "US/OPS",
        "RU/MINDEF",
        "RU/NDMC",
    }


def test_baltic_flash_query_draft_is_step_q1(scenario: Scenario) -> None:
    q1 = scenario.steps[Q1]
    assert q1.name == "q1"
    assert q1.action == "draft"
    assert q1.at == timedelta(days=12, minutes=1)
    assert q1.pace == 90
    assert q1.args == {"as": "US/EUCOM-JOC", "rule": "proximity", "party": "RU"}
    assert q1.where == "steps[10] (q1)"
    ack = scenario.steps[Q1 + 1]
    assert (ack.action, ack.args["message"], ack.args["as"]) == ("ack", "q1", "RU/NDMC")


def test_baltic_known_values(scenario: Scenario) -> None:
    outage = scenario.steps[OUTAGE]
    assert outage.action == "outage"
    assert outage.args["minutes"] == 15
    assert outage.args["peer"] == "RU"
    assert outage.at == timedelta(days=12, hours=1)
    narration = scenario.steps[SAY_FIRST]
    assert narration.action is None
    assert narration.say.startswith("1 March.")
    assert scenario.steps[8].pace == 4
    assert scenario.steps[2].pace is None
    flight1 = scenario.steps[FLIGHT1]
    assert (flight1.name, flight1.action, flight1.args["line"]) == (
        "flight1",
        "send",
        "us-ru-deconfliction",
    )
    assert len(scenario.steps[TRACKS].args["items"]) == 5
    assert [s.args["decision"] for s in scenario.steps if s.action == "answer"] == [
        "decline",
        "accept",
        "hold",
    ]


def test_parsing_leaves_the_given_mapping_unchanged() -> None:
    data = baltic()
    data["steps"][CALL1]["request"]["from"] = "us/secdef"
    before = copy.deepcopy(data)
    parsed = parse_scenario(data)
    assert data == before
    assert parsed.steps[CALL1].args["from"] == "US/SECDEF"


# --- the top level -------------------------------------------------------------------


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_scenario(["steps"])
    assert info.value.field == "scenario file"
    assert "expected a mapping" in info.value.message


def test_unknown_top_level_field_is_named() -> None:
    error = refusal(lambda d: d.update(steps_=[], speeed=2))
    assert error.field == "scenario file"
    assert "unknown field(s) speeed, steps_" in error.message


@pytest.mark.parametrize("steps", [None, [], "at: 0", {"at": 0}], ids=repr)
def test_missing_or_empty_steps_are_refused(steps: Any) -> None:
    def change(d: dict[str, Any]) -> None:
        if steps is None:
            del d["steps"]
        else:
            d["steps"] = steps

    error = refusal(change)
    assert error.field == "steps"
    assert "needs a list of steps" in error.message


@pytest.mark.parametrize(
    "start",
    [None, "tomorrow", "2022-03-01T09:00:00", "2022-03-01", datetime(2022, 3, 1, 9)],
    ids=repr,
)
def test_bad_start_is_refused(start: Any) -> None:
    def change(d: dict[str, Any]) -> None:
        if start is None:
            del d["start"]
        else:
            d["start"] = start

    error = refusal(change)
    assert error.field == "start"
    assert "UTC time" in error.message


def test_start_as_text_with_offset_is_taken_as_utc() -> None:
    data = baltic()
    data["start"] = "2022-03-01T11:00:00+02:00"
    assert parse_scenario(data).start == datetime(2022, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("speed", [0, 0.5, 100_001, -60, "fast"], ids=repr)
def test_speed_out_of_range_is_refused(speed: Any) -> None:
    error = refusal(lambda d: d.update(speed=speed))
    assert error.field == "speed"
    assert repr(speed) in error.message
    assert "1 to 100000" in error.message


@pytest.mark.parametrize("speed", [1, 100_000, 2.5])
def test_speed_at_the_limits_is_taken(speed: float) -> None:
    data = baltic()
    data["speed"] = speed
    assert parse_scenario(data).speed == speed


def test_speed_and_jump_have_defaults() -> None:
    data = baltic()
    del data["speed"], data["jump"]
    parsed = parse_scenario(data)
    assert (parsed.speed, parsed.jump) == (60, timedelta(hours=1))


def test_bad_jump_is_refused() -> None:
    error = refusal(lambda d: d.update(jump="half an hour"))
    assert error.field == "jump"
    assert "not a time offset" in error.message


def test_bad_scenario_id_names_the_scenario_field() -> None:
    error = refusal(lambda d: d.update(scenario="baltic 2022!"))
    assert error.field == "scenario"


def test_missing_scenario_id_is_refused() -> None:
    error = refusal(lambda d: d.pop("scenario"))
    assert error.field == "scenario"
    assert "non-empty" in error.message


# --- steps -----------------------------------------------------------------------------


def test_step_with_two_actions_is_refused() -> None:
    error = refusal(lambda d: step(d, FLIGHT1).update(ack={"as": "RU/NDMC", "message": "x"}))
    assert error.field == f"steps[{FLIGHT1}]"
    assert "one action per step, not send and ack" in error.message


def test_step_with_neither_action_nor_say_is_refused() -> None:
    error = refusal(lambda d: d["steps"].insert(2, {"at": "1h", "name": "idle"}))
    assert error.field == "steps[2]"
    assert "needs an action" in error.message
    assert "or a say" in error.message


def test_step_with_empty_say_and_no_action_is_refused() -> None:
    error = refusal(lambda d: step(d, SAY_FIRST).update(say=""))
    assert error.field == "steps[0]"


def test_step_that_is_not_a_mapping_is_refused() -> None:
    error = refusal(lambda d: d["steps"].insert(1, "say hello"))
    assert error.field == "steps[1]"
    assert "expected a mapping" in error.message


def test_unknown_step_field_is_named_with_a_hint() -> None:
    error = refusal(lambda d: step(d, CALL1).update(when="2h"))
    assert error.field == f"steps[{CALL1}]"
    assert "unknown field(s) when" in error.message
    assert error.hint is not None
    assert "send" in error.hint
    assert "outage" in error.hint


def test_unknown_step_field_hint_lists_every_allowed_field() -> None:
    error = refusal(lambda d: step(d, CALL1).update(paces=4))
    assert error.hint is not None
    for allowed in ("at", "say", "name", "pace", "send", "outage"):
        assert allowed in error.hint


def test_at_earlier_than_the_step_before_is_refused() -> None:
    error = refusal(lambda d: step(d, ACK_FLIGHT1).update(at="23h"))
    assert error.field == f"steps[{ACK_FLIGHT1}].at"
    assert "23h is earlier than the step before" in error.message
    assert error.hint == "steps run in time order"


def test_at_equal_to_the_step_before_is_taken() -> None:
    data = baltic()
    step(data, ACK_FLIGHT1)["at"] = "1d"
    assert parse_scenario(data).steps[ACK_FLIGHT1].at == timedelta(days=1)


def test_missing_at_means_zero() -> None:
    data = baltic()
    del step(data, CALL1)["at"]
    assert parse_scenario(data).steps[CALL1].at == timedelta(0)


@pytest.mark.parametrize("at", ["10x", "-5m", "+5m", "5", "1h1d", "soon"])
def test_bad_at_text_is_refused(at: str) -> None:
    error = refusal(lambda d: step(d, CALL1).update(at=at))
    assert error.field == f"steps[{CALL1}].at"
    assert f"{at!r} is not a time offset" in error.message
    assert error.hint is not None
    assert "90s" in error.hint


def test_duplicate_step_name_is_refused() -> None:
    error = refusal(lambda d: step(d, Q1).update(name="call1"))
    assert error.field == f"steps[{Q1}].name"
    assert "'call1' names an earlier step too" in error.message


def test_blank_step_name_is_refused() -> None:
    error = refusal(lambda d: step(d, Q1).update(name="  "))
    assert error.field == f"steps[{Q1}].name"


@pytest.mark.parametrize("pace", [0, 0.05, 100_001, -1, "fast"], ids=repr)
def test_pace_out_of_range_is_refused(pace: Any) -> None:
    error = refusal(lambda d: step(d, Q1).update(pace=pace))
    assert error.field == f"steps[{Q1}].pace"
    assert repr(pace) in error.message
    assert "0.1-100000" in error.message


def test_pace_at_its_lower_limit_is_taken() -> None:
    data = baltic()
    step(data, Q1)["pace"] = 0.1
    assert parse_scenario(data).steps[Q1].pace == pytest.approx(0.1)


# --- references between steps --------------------------------------------------------


def test_ack_naming_an_unknown_step_is_refused() -> None:
    error = refusal(lambda d: step(d, ACK_FLIGHT1)["ack"].update(message="flight9"))
    assert error.field == f"steps[{ACK_FLIGHT1}].ack.message"
    assert "'flight9' names no earlier send or draft step" in error.message
    assert error.hint is not None
    assert "name:" in error.hint


def test_ack_naming_a_request_step_is_refused() -> None:
    error = refusal(lambda d: step(d, ACK_FLIGHT1)["ack"].update(message="call1"))
    assert error.field == f"steps[{ACK_FLIGHT1}].ack.message"
    assert "'call1' names no earlier send or draft step" in error.message


def test_ack_naming_a_later_step_is_refused() -> None:
    error = refusal(lambda d: step(d, ACK_FLIGHT1)["ack"].update(message="flight2"))
    assert error.field == f"steps[{ACK_FLIGHT1}].ack.message"


def test_answer_naming_a_send_step_is_refused() -> None:
    def change(d: dict[str, Any]) -> None:
        d["steps"].insert(
            ACK_FLIGHT1 + 1,
            {"at": "1d1h", "answer": {"request": "flight1", "as": "RU/MINDEF", "decision": "hold"}},
        )

    error = refusal(change)
    assert error.field == f"steps[{ACK_FLIGHT1 + 1}].answer.request"
    assert "'flight1' names no earlier request step" in error.message


@pytest.mark.parametrize("decision", ["yes", "Accept", "", "declined"])
def test_answer_decision_must_be_accept_decline_or_hold(decision: str) -> None:
    error = refusal(lambda d: step(d, ANSWER_CALL1)["answer"].update(decision=decision))
    assert error.field == f"steps[{ANSWER_CALL1}].answer.decision"
    assert f"{decision!r}: one of accept, decline, hold" in error.message


def test_bad_answer_time_is_refused() -> None:
    error = refusal(lambda d: step(d, ANSWER_CALL1)["answer"].update(time="soon"))
    assert error.field.startswith(f"steps[{ANSWER_CALL1}].answer")


# --- the fields of an action ---------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "action", "drop"),
    [
        (FLIGHT1, "send", "body"),
        (FLIGHT1, "send", "line"),
        (ACK_FLIGHT1, "ack", "as"),
        (CALL1, "request", "topic"),
        (ANSWER_CALL1, "answer", "decision"),
        (TRACKS, "tracks", "items"),
        (Q1, "draft", "as"),
        (OUTAGE, "outage", "minutes"),
    ],
)
def test_missing_required_field_of_an_action_is_named(index: int, action: str, drop: str) -> None:
    error = refusal(lambda d: step(d, index)[action].pop(drop))
    assert error.field == f"steps[{index}].{action}"
    assert f"missing {drop}" in error.message


def test_all_missing_fields_are_named_together() -> None:
    error = refusal(lambda d: step(d, FLIGHT1).update(send={"as": "US/EUCOM-JOC"}))
    assert error.field == f"steps[{FLIGHT1}].send"
    assert "missing body, line, subject" in error.message


@pytest.mark.parametrize(
    ("index", "action"),
    [(FLIGHT1, "send"), (ACK_FLIGHT1, "ack"), (CALL1, "request"), (OUTAGE, "outage")],
)
def test_unknown_field_inside_an_action_is_named(index: int, action: str) -> None:
    error = refusal(lambda d: step(d, index)[action].update(colour="red"))
    assert error.field == f"steps[{index}].{action}"
    assert "unknown field(s) colour" in error.message
    assert error.hint is not None
    assert error.hint.startswith("allowed: ")
    assert "colour" not in error.hint
    assert ("from" if action == "request" else "as") in error.hint


def test_action_that_is_not_a_mapping_is_refused() -> None:
    error = refusal(lambda d: step(d, OUTAGE).update(outage="15 minutes"))
    assert error.field == f"steps[{OUTAGE}].outage"
    assert "expected a mapping" in error.message


@pytest.mark.parametrize("minutes", [0, 2000, -5, 1440.5, "15"], ids=repr)
def test_outage_minutes_out_of_range_are_refused(minutes: Any) -> None:
    error = refusal(lambda d: step(d, OUTAGE)["outage"].update(minutes=minutes))
    assert error.field == f"steps[{OUTAGE}].outage.minutes"
    assert f"{minutes!r}: 1 to 1440 minutes" in error.message


@pytest.mark.parametrize("minutes", [1, 1440])
def test_outage_minutes_at_the_limits_are_taken(minutes: int) -> None:
    data = baltic()
    step(data, OUTAGE)["outage"]["minutes"] = minutes
    assert parse_scenario(data).steps[OUTAGE].args["minutes"] == minutes


@pytest.mark.parametrize("key", ["start", "end"])
def test_bad_send_window_offset_is_refused(key: str) -> None:
    error = refusal(lambda d: step(d, FLIGHT1)["send"].update({key: "two hours"}))
    assert error.field == f"steps[{FLIGHT1}].send.{key}"


def test_bad_request_window_is_refused() -> None:
    error = refusal(lambda d: step(d, CALL1)["request"].update(window="-1h"))
    assert error.field == f"steps[{CALL1}].request.window"


def test_bad_draft_wait_is_refused() -> None:
    error = refusal(lambda d: step(d, Q1)["draft"].update(wait="a while"))
    assert error.field == f"steps[{Q1}].draft.wait"


# --- tracks ----------------------------------------------------------------------------


def item(data: dict[str, Any], n: int = 0) -> dict[str, Any]:
    point: dict[str, Any] = step(data, TRACKS)["tracks"]["items"][n]
    return point


@pytest.mark.parametrize("key", ["lat", "lon", "uid", "kind"])
def test_track_item_missing_a_required_key_is_refused(key: str) -> None:
    error = refusal(lambda d: item(d, 2).pop(key))
    assert error.field == f"steps[{TRACKS}].tracks.items[2]"
    assert f"missing {key}" in error.message


@pytest.mark.parametrize(("key", "value"), [("lat", 90.5), ("lat", -91), ("lon", 180.01)])
def test_track_item_out_of_range_is_refused(key: str, value: float) -> None:
    error = refusal(lambda d: item(d, 1).update({key: value}))
    assert error.field == f"steps[{TRACKS}].tracks.items[1]"
    assert "lat/lon out of range" in error.message


def test_track_item_at_the_poles_and_antimeridian_is_taken() -> None:
    data = baltic()
    item(data).update(lat=-90, lon=180)
    assert parse_scenario(data).steps[TRACKS].args["items"][0]["lat"] == -90


def test_track_item_lat_that_is_not_a_number_is_refused() -> None:
    error = refusal(lambda d: item(d).update(lat="north"))
    assert error.field == f"steps[{TRACKS}].tracks.items[0]"


def test_track_item_unknown_field_is_named() -> None:
    error = refusal(lambda d: item(d, 4).update(heading=265))
    assert error.field == f"steps[{TRACKS}].tracks.items[4]"
    assert "unknown field(s) heading" in error.message


def test_track_item_bad_at_is_refused() -> None:
    error = refusal(lambda d: item(d, 3).update(at="30 seconds"))
    assert error.field == f"steps[{TRACKS}].tracks.items[3].at"


@pytest.mark.parametrize("items", [[], "RU-CM-01", None], ids=repr)
def test_tracks_need_a_list_of_items(items: Any) -> None:
    error = refusal(lambda d: step(d, TRACKS)["tracks"].update(items=items))
    assert error.field == f"steps[{TRACKS}].tracks.items"


def test_track_item_that_is_not_a_mapping_is_refused() -> None:
    error = refusal(lambda d: step(d, TRACKS)["tracks"]["items"].append([49.9, 23.4]))
    assert error.field == f"steps[{TRACKS}].tracks.items[5]"
    assert "expected a mapping" in error.message


# --- setup -----------------------------------------------------------------------------


def test_principal_not_among_setup_principals_is_refused() -> None:
    error = refusal(lambda d: step(d, CALL1)["request"].update({"from": "US/POTUS"}))
    assert error.field == f"steps[{CALL1}] (call1).request"
    assert "US/POTUS is not among setup.principals" in error.message


def test_request_to_a_principal_not_in_setup_is_refused() -> None:
    error = refusal(lambda d: step(d, CALL1)["request"].update(to="RU/PRESIDENT"))
    assert error.field == f"steps[{CALL1}] (call1).request"
    assert "RU/PRESIDENT is not among setup.principals" in error.message


def test_ack_as_a_principal_not_in_setup_is_refused() -> None:
    error = refusal(lambda d: step(d, ACK_FLIGHT1)["ack"].update({"as": "RU/GRU"}))
    assert error.field == f"steps[{ACK_FLIGHT1}].ack"
    assert "RU/GRU is not among setup.principals" in error.message


def test_principal_ids_are_normalised_before_the_setup_check() -> None:
    data = baltic()
    step(data, ACK_FLIGHT1)["ack"]["as"] = " ru/ndmc "
    assert parse_scenario(data).steps[ACK_FLIGHT1].args["as"] == "RU/NDMC"


def test_send_on_a_line_not_in_setup_is_refused() -> None:
    error = refusal(lambda d: step(d, FLIGHT1)["send"].update(line="us-ru-hotline"))
    assert error.field == f"steps[{FLIGHT1}] (flight1).send.line"
    assert "us-ru-hotline is not among setup.lines" in error.message


def test_setup_line_member_not_among_principals_is_refused() -> None:
    error = refusal(lambda d: d["setup"]["lines"][1]["members"].append("US/POTUS"))
    assert error.field == "setup.lines[1].members"
    assert "US/POTUS is not among setup.principals" in error.message


def test_setup_line_without_id_is_refused() -> None:
    error = refusal(lambda d: d["setup"]["lines"][2].pop("id"))
    assert error.field == "setup.lines[2].id"


def test_setup_principal_without_id_is_refused() -> None:
    error = refusal(lambda d: d["setup"]["principals"][3].pop("id"))
    assert error.field == "setup.principals[3].id"


def test_setup_lists_must_be_lists() -> None:
    error = refusal(lambda d: d["setup"].update(lines="us-ru-deconfliction"))
    assert error.field == "setup"


def test_without_setup_steps_are_not_checked_against_it() -> None:
    data = baltic()
    del data["setup"]
    step(data, CALL1)["request"]["from"] = "US/POTUS"
    step(data, FLIGHT1)["send"]["line"] = "us-ru-hotline"
    parsed = parse_scenario(data)
    assert parsed.setup == {}
    assert "US/POTUS" in parsed.principals()


def test_bad_principal_id_in_a_step_names_the_step() -> None:
    error = refusal(lambda d: step(d, CALL1)["request"].update({"from": "nobody"}))
    assert "'nobody' is not a principal id" in error.message
    assert error.field.startswith(f"steps[{CALL1}]")


@pytest.mark.parametrize("key", ["from", "to"])
def test_bad_principal_id_in_a_step_is_refused(key: str) -> None:
    error = refusal(lambda d: step(d, CALL1)["request"].update({key: "nobody"}))
    assert "'nobody' is not a principal id" in error.message
    assert error.hint is not None
    assert "PARTY/DESK" in error.hint


def test_bad_principal_id_in_setup_names_the_line() -> None:
    error = refusal(lambda d: d["setup"]["lines"][0]["members"].append("nobody"))
    assert error.field.startswith("setup.lines[0]")


def test_bad_outage_peer_names_the_step() -> None:
    error = refusal(lambda d: step(d, OUTAGE)["outage"].update(peer="R"))
    assert error.field.startswith(f"steps[{OUTAGE}]")


# --- parse_offset ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", timedelta(0)),
        (0, timedelta(0)),
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("2d3h", timedelta(days=2, hours=3)),
        ("1d2h30m", timedelta(days=1, hours=2, minutes=30)),
        ("1d2h30m15s", timedelta(days=1, hours=2, minutes=30, seconds=15)),
        (" 45m ", timedelta(minutes=45)),
        ("0s", timedelta(0)),
    ],
    ids=repr,
)
def test_parse_offset_reads(text: Any, expected: timedelta) -> None:
    assert parse_offset(text, "at") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+1h", timedelta(hours=1)),
        ("-30m", timedelta(minutes=-30)),
        ("-1d2h", -timedelta(days=1, hours=2)),
        ("2h", timedelta(hours=2)),
        ("0", timedelta(0)),
    ],
)
def test_parse_offset_relative_takes_a_sign(text: str, expected: timedelta) -> None:
    assert parse_offset(text, "start", relative=True) == expected


@pytest.mark.parametrize("text", ["+1h", "-30m"])
def test_parse_offset_refuses_a_sign_unless_relative(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_offset(text, "steps[3].at")
    assert info.value.field == "steps[3].at"
    assert f"{text!r} is not a time offset" in info.value.message


@pytest.mark.parametrize(
    "text", ["10x", "1.5h", "h", "5", "1h1d", "30m2h", "1 h", "+", "--1h", None, "1w"]
)
def test_parse_offset_refusals(text: Any) -> None:
    for relative in (False, True):
        with pytest.raises(InvalidInput) as info:
            parse_offset(text, "wait", relative=relative)
        assert info.value.field == "wait"
        assert "is not a time offset" in info.value.message
        assert info.value.hint == "write e.g. 0, 90s, 10m, 2d3h"


def test_parse_offset_refuses_empty_text() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_offset("", "steps[2].at")
    assert info.value.field == "steps[2].at"


def test_parse_offset_relative_refuses_empty_text() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_offset("", "steps[4].send.start", relative=True)
    assert info.value.field == "steps[4].send.start"
