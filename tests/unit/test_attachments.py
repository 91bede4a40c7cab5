"""Map attachments of a message (hotline.domain.attachments): normal form, hash and size,
limits, and a received attachment that is not what was signed."""

from __future__ import annotations

import json

import pytest

from hotline.domain.attachments import (
    MAX_ATTACHMENTS,
    MAX_POSITIONS,
    from_geojson,
    parse_attachments,
)
from hotline.domain.canonical import canonical, digest
from hotline.domain.errors import InvalidInput
from hotline.domain.message import MessageDraft
from hotline.domain.policy import MessageKind
from hotline.domain.precedence import Precedence

TRACK = {
    "name": "CM-01, 09:00-09:02Z",
    "kind": "track",
    "geometry": {"type": "LineString", "coordinates": [[24.3, 50.4], [24.1, 50.3], [23.9, 50.2]]},
    "times": ["2022-03-13T09:00:00Z", "2022-03-13T09:01:00Z", "2022-03-13T09:02:00Z"],
}
AREA = {"name": "Yavoriv", "kind": "area", "geometry": {"center": [23.5, 50.0], "radius": 10}}


def test_each_attachment_gets_the_hash_and_size_of_its_canonical_form() -> None:
    [track, area] = parse_attachments([TRACK, AREA])
    bare = {k: v for k, v in track.items() if k not in ("sha256", "bytes")}
    assert track["sha256"] == digest(canonical(bare)) and track["bytes"] == len(canonical(bare))
    assert track["times"][0] == "2022-03-13T09:00:00.000Z"  # times in the ledger's form
    assert area["geometry"] == {"center": [23.5, 50.0], "radius": 10.0, "unit": "km"}
    # the normal form is a fixed point: what a peer receives checks out as it is
    assert parse_attachments([track, area]) == [track, area]


def test_an_attachment_changed_after_signing_is_refused() -> None:
    [track] = parse_attachments([TRACK])
    moved = json.loads(json.dumps(track))
    moved["geometry"]["coordinates"][1] = [24.0, 50.3]
    with pytest.raises(InvalidInput, match="not what was signed"):
        parse_attachments([moved])
    resized = {**track, "bytes": track["bytes"] + 1}
    with pytest.raises(InvalidInput, match="bytes"):
        parse_attachments([resized])


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({**TRACK, "kind": "video"}, "not one of area, track, positions"),
        ({**TRACK, "name": ""}, "a name of"),
        ({**TRACK, "geometry": {"type": "MultiPoint", "coordinates": [[1, 2]]}}, "LineString"),
        ({**TRACK, "times": ["2022-03-13T09:00:00Z"]}, "one time per position"),
        ({**TRACK, "times": ["x", "y", "z"]}, "attachment 1"),
        (
            {**TRACK, "geometry": {"type": "LineString", "coordinates": [[24, 95], [24, 50]]}},
            "latitude 95",
        ),
        ({**AREA, "times": []}, "an area has no times"),
        ({**TRACK, "geometry": {"type": "LineString", "coordinates": [[1, 2]]}}, "at least 2"),
    ],
)
def test_bad_attachments_are_refused_with_what_is_wrong(bad: dict, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        parse_attachments([bad])


def test_limits_keep_a_message_small() -> None:
    with pytest.raises(InvalidInput, match=f"at most {MAX_ATTACHMENTS}"):
        parse_attachments([AREA] * (MAX_ATTACHMENTS + 1))
    many = {
        "name": "all of them",
        "kind": "positions",
        "geometry": {
            "type": "MultiPoint",
            "coordinates": [[20 + i / 1000, 50.0] for i in range(MAX_POSITIONS + 1)],
        },
    }
    with pytest.raises(InvalidInput, match=f"at most {MAX_POSITIONS:,}|at most {MAX_POSITIONS}"):
        parse_attachments([many])


def test_a_message_carries_its_attachments_in_its_signed_content() -> None:
    draft = MessageDraft(
        MessageKind.INCIDENT,
        Precedence.FLASH,
        "Missile track",
        "The track we hold.",
        attachments=(TRACK,),
    )
    content = draft.content()
    assert content["attachments"][0]["sha256"] == parse_attachments([TRACK])[0]["sha256"]
    assert (
        "attachments" not in MessageDraft(MessageKind.FREE, Precedence.ROUTINE, "s", "b").content()
    )


def test_geojson_features_become_attachments() -> None:
    document = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "track"}, "geometry": TRACK["geometry"]},
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [24, 50]},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[23, 50], [24, 50], [24, 51], [23, 50]]],
                },
            },
        ],
    }
    found = parse_attachments(from_geojson(document, "incident"))
    assert [(a["name"], a["kind"]) for a in found] == [
        ("track", "track"),
        ("incident 2", "positions"),
        ("incident 3", "area"),
    ]
    with pytest.raises(InvalidInput, match="feature 1 is a MultiPolygon") as refused:
        from_geojson(
            {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": []}}, "x"
        )
    assert refused.value.hint is not None and "LineString (track)" in refused.value.hint
