"""From an alert to a draft: who is told what, on which line (domain.drafting)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hotline.domain.alerting import Alert, AlertState
from hotline.domain.drafting import draft_of, line_for
from hotline.domain.errors import NotFound, PolicyRefused
from hotline.domain.policy import LineKind, LineState, LineStatus, MessageKind, make_line
from hotline.domain.precedence import Precedence
from hotline.domain.tracks import TrackKind

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def state(line_id: str, kind: LineKind, status: LineStatus = LineStatus.ACTIVE) -> LineState:
    line = make_line(
        line_id=line_id, kind=kind, title=line_id, principals=["US/EUCOM-JOC", "RU/NDMC"]
    )
    return LineState(line, status, "US", frozenset({"US", "RU"}), "2026-03-01T00:00:00.000Z")


def alert(
    party: str, other: str | None, *, severity: str = "critical", rule: str = "proximity"
) -> Alert:
    return Alert(
        key="k", rule="proximity", severity=severity, state=AlertState.OPEN, uid="RUS-1",
        party=party,
        other=other, band=30_000.0, value=24_000.0, kind=TrackKind.MISSILE, lat=52.1, lon=23.7,
        opened_at=NOW, updated_at=NOW,
    )  # fmt: skip


LINES = [
    state("us-ru-attache", LineKind.RELAY),
    state("us-ru-deconfliction", LineKind.DECONFLICTION),
    state("us-ru-old", LineKind.DECONFLICTION, LineStatus.PROPOSED),
]


def test_their_track_near_our_border_is_a_flash_query_on_the_deconfliction_line() -> None:
    line, draft = draft_of(alert("RU", "US"), 7, "US", LINES, NOW)
    assert line.line.id == "us-ru-deconfliction"
    assert (draft.kind, draft.precedence) == (MessageKind.QUERY, Precedence.FLASH)
    assert draft.subject.startswith("Query: RU missile RUS-1 24.0 km from US's border")
    assert draft.area == {"center": [23.7, 52.1], "radius": 10.0, "unit": "km"}
    assert draft.window == {"start": "2026-03-01T12:00:00Z", "end": "2026-03-01T13:00:00Z"}
    assert (draft.alert, draft.units) == ("7", ("RUS-1",))


def test_our_track_near_their_border_is_a_notification_and_a_warning_is_immediate() -> None:
    _, draft = draft_of(alert("US", "RU", severity="warning"), 8, "US", LINES, NOW)
    assert (draft.kind, draft.precedence) == (MessageKind.NOTIFICATION, Precedence.IMMEDIATE)
    assert "not directed at you" in draft.body


def test_an_alert_about_no_other_party_has_no_draft() -> None:
    with pytest.raises(PolicyRefused):
        draft_of(alert("US", None), 9, "US", LINES, NOW)


def test_no_active_line_taking_the_kind_is_named() -> None:
    with pytest.raises(NotFound) as caught:
        line_for("US", "CN", MessageKind.QUERY, LINES)
    assert "CN" in caught.value.message
    with pytest.raises(NotFound):
        line_for("US", "RU", MessageKind.QUERY, [LINES[2]])  # proposed, not active


def network(line_id: str, principals: list[str], **roles: object) -> LineState:
    line = make_line(
        line_id=line_id,
        kind=LineKind.DECONFLICTION,
        title=line_id,
        principals=principals,
        **roles,  # type: ignore[arg-type]
    )
    return LineState(line, LineStatus.ACTIVE, "US", frozenset(line.parties), "2026-03-01")


def test_a_draft_goes_on_a_line_both_write_on_and_on_a_network_to_the_party_concerned() -> None:
    observed = network("observed", ["US/EUCOM-JOC", "UA/GS", "RU/NDMC"], observers=["RU"])
    wide = network("wide", ["US/EUCOM-JOC", "RU/NDMC", "UA/GS", "PL/OPS"])
    narrow = network("narrow", ["US/EUCOM-JOC", "RU/NDMC", "UA/GS"])
    # RU only observes the first: its track is queried on the line of fewest parties
    line, draft = draft_of(alert("RU", "US"), 7, "US", [observed, wide, narrow], NOW)
    assert line.line.id == "narrow"
    assert draft.to == ("RU/NDMC",)
    # between two parties, no addressee is named: the message goes to the other
    line, draft = draft_of(alert("RU", "US"), 7, "US", LINES, NOW)
    assert draft.to == ()
    with pytest.raises(NotFound):
        line_for("US", "RU", MessageKind.QUERY, [observed])
