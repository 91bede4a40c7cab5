"""Cursor on Target events to tracks (hotline.ingest.cot): the parser, kinds and
affiliations from CoT types, every malformed form refused as InvalidInput (and nothing
else), and the stream splitter, checked at every chunk boundary and fuzzed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.errors import InvalidInput
from hotline.domain.tracks import Track, TrackKind
from hotline.ingest.cot import MAX_EVENT_BYTES, Splitter, kind_of, parse_event

PARTIES = {"f": "NATO", "h": "RU"}
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def event(
    *,
    uid: str = "RU-BEAR-01",
    cot_type: str = "a-h-A-M-F",
    time: str = "2026-03-01T12:00:00Z",
    point: str = '<point lat="55.5" lon="19.25" hae="9144" ce="50" le="30"/>',
    detail: str = (
        '<detail><track course="270.5" speed="231.5"/><contact callsign="BEAR01"/></detail>'
    ),
) -> str:
    return (
        f'<event version="2.0" uid="{uid}" type="{cot_type}" time="{time}" start="{time}" '
        f'stale="2026-03-01T12:02:00Z" how="m-g">{point}{detail}</event>'
    )


VALID = event().encode()


# -- parsing ----------------------------------------------------------------------------


def test_a_full_event() -> None:
    track = parse_event(VALID, PARTIES)
    assert track == Track(
        uid="RU-BEAR-01",
        party="RU",
        kind=TrackKind.AIRCRAFT,
        lat=55.5,
        lon=19.25,
        time=T0,
        alt=9144.0,
        speed=231.5,
        course=270.5,
        callsign="BEAR01",
        source="cot",
    )


def test_an_event_as_text_with_an_xml_declaration_and_a_source() -> None:
    text = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + event()
    track = parse_event(text, PARTIES, source="tak-server")
    assert (track.uid, track.source) == ("RU-BEAR-01", "tak-server")


def test_an_event_without_detail() -> None:
    track = parse_event(event(detail=""), PARTIES)
    assert (track.speed, track.course, track.callsign) == (None, None, None)
    assert (track.lat, track.lon, track.alt) == (55.5, 19.25, 9144.0)


def test_an_event_with_detail_but_no_track() -> None:
    track = parse_event(event(detail='<detail><contact callsign=" X1 "/></detail>'), PARTIES)
    assert (track.speed, track.course, track.callsign) == (None, None, "X1")


def test_unknown_and_missing_altitude() -> None:
    unknown = event(point='<point lat="55.5" lon="19.25" hae="9999999.0" ce="0" le="0"/>')
    assert parse_event(unknown, PARTIES).alt is None
    missing = event(point='<point lat="55.5" lon="19.25"/>')
    assert parse_event(missing, PARTIES).alt is None


def test_a_negative_speed_is_unknown_and_the_course_wraps() -> None:
    detail = '<detail><track course="370" speed="-1"/></detail>'
    track = parse_event(event(detail=detail), PARTIES)
    assert track.speed is None
    assert track.course == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        ("2026-03-01T12:00:00Z", T0),
        ("2026-03-01T12:00:00.250Z", T0.replace(microsecond=250_000)),
        ("2026-03-01T12:00:00z", T0),
        ("2026-03-01T14:00:00+02:00", T0),
        ("2026-03-01T12:00:00", T0),  # no zone: taken as UTC
    ],
)
def test_times(time: str, expected: datetime) -> None:
    assert parse_event(event(time=time), PARTIES).time == expected


def test_start_stands_in_for_a_missing_time() -> None:
    data = event().replace('time="2026-03-01T12:00:00Z" ', "")
    assert parse_event(data, PARTIES).time == T0


def test_a_negative_utc_offset_is_converted() -> None:
    assert parse_event(event(time="2026-03-01T07:00:00-05:00"), PARTIES).time == T0


@pytest.mark.parametrize(
    ("cot_type", "kind"),
    [
        ("a-h-A-M-F", TrackKind.AIRCRAFT),
        ("a-n-A-C-F", TrackKind.AIRCRAFT),
        ("a-h-A", TrackKind.AIRCRAFT),
        ("a-h-A-W-M", TrackKind.MISSILE),
        ("a-h-A-W-M-S-A", TrackKind.MISSILE),
        ("a-f-A-M-F-Q", TrackKind.UAV),
        ("a-f-A-C-F-Q", TrackKind.UAV),
        ("a-h-A-M-H", TrackKind.HELICOPTER),
        ("a-n-A-C-H", TrackKind.HELICOPTER),
        ("a-u-A-C-L", TrackKind.BALLOON),
        ("a-h-S", TrackKind.SHIP),
        ("a-h-S-X-M", TrackKind.SHIP),
        ("a-h-U", TrackKind.SHIP),
        ("a-h-G", TrackKind.GROUND),
        ("a-h-G-U-C-I", TrackKind.GROUND),
        ("a-h-P", TrackKind.UNKNOWN),
        ("a-h", TrackKind.UNKNOWN),
        ("a", TrackKind.UNKNOWN),
        ("", TrackKind.UNKNOWN),
        ("b-m-p", TrackKind.UNKNOWN),
        ("b-m-p-s-p-i", TrackKind.UNKNOWN),
        ("t-x-c-t", TrackKind.UNKNOWN),
    ],
)
def test_kind_of(cot_type: str, kind: TrackKind) -> None:
    assert kind_of(cot_type) is kind


@pytest.mark.parametrize(
    ("cot_type", "party"),
    [
        ("a-f-A-M-F", "NATO"),
        ("a-h-A-M-F", "RU"),
        ("a-n-A-C-F", None),
        ("a-u-S", None),
        ("a-j-G", None),
        ("b-m-p", None),
    ],
)
def test_affiliation_to_party(cot_type: str, party: str | None) -> None:
    assert parse_event(event(cot_type=cot_type), PARTIES).party == party


def test_the_type_gives_the_kind_of_the_track() -> None:
    assert parse_event(event(cot_type="a-h-A-W-M"), PARTIES).kind is TrackKind.MISSILE
    assert parse_event(event(cot_type="b-m-p-s-p-i"), PARTIES).kind is TrackKind.UNKNOWN


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
""" + event(uid="&lol4;")

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE event [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
""" + event(uid="&xxe;")

MALFORMED = {
    "no point": event(point=""),
    "point without lat": event(point='<point lon="19.25" hae="0"/>'),
    "point without lon": event(point='<point lat="55.5" hae="0"/>'),
    "bad lat": event(point='<point lat="north" lon="19.25"/>'),
    "lat 95": event(point='<point lat="95" lon="19.25"/>'),
    "lon 181": event(point='<point lat="55" lon="181"/>'),
    "lat nan": event(point='<point lat="nan" lon="19.25"/>'),
    "bad hae": event(point='<point lat="55.5" lon="19.25" hae="high"/>'),
    "bad speed": event(detail='<detail><track course="90" speed="fast"/></detail>'),
    "infinite speed": event(detail='<detail><track course="90" speed="inf"/></detail>'),
    "nan course": event(detail='<detail><track course="nan" speed="10"/></detail>'),
    "missing uid": event().replace('uid="RU-BEAR-01" ', ""),
    "empty uid": event(uid=""),
    "uid with spaces": event(uid="RU BEAR"),
    "missing type": event().replace('type="a-h-A-M-F" ', ""),
    "no time": event().replace('time="2026-03-01T12:00:00Z" start="2026-03-01T12:00:00Z" ', ""),
    "bad time": event(time="yesterday"),
    "not XML": "this is not XML",
    "binary": b"\x00\xff\xfe<event",
    "empty": b"",
    "unclosed": event()[:-8],
    "another root": "<message><point lat='1' lon='2'/></message>",
    "a DTD": '<!DOCTYPE event SYSTEM "cot.dtd">' + event(),
    "entity bomb": BOMB,
    "external entity": EXTERNAL,
    "larger than 64 KiB": event(detail="<detail>" + "x" * MAX_EVENT_BYTES + "</detail>"),
}


@pytest.mark.parametrize("data", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_events_raise_invalid_input(data: str | bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_event(data, PARTIES)
    assert str(caught.value).startswith(("cot:", "lat:", "lon:", "uid:", "speed:", "course:"))


def test_an_out_of_range_time_with_an_offset_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        parse_event(event(time="0001-01-01T00:30:00+01:00"), PARTIES)


# -- fuzz ----------------------------------------------------------------------------------


def parse_or_refuse(data: bytes | str) -> None:
    try:
        track = parse_event(data, PARTIES)
    except InvalidInput:
        return
    assert isinstance(track, Track)
    assert -90 <= track.lat <= 90
    assert -180 <= track.lon <= 180
    assert track.time.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    parse_or_refuse(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_arbitrary_text(data: str) -> None:
    parse_or_refuse(data)


MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, len(VALID) - 1), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(0, len(VALID)), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, len(VALID)), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, len(VALID) - 1), st.just(0)),
)


def mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    for op, where, value in mutations:
        where = min(where, len(out))
        if op == "flip" and where < len(out):
            out[where] = value
        elif op == "truncate":
            del out[where:]
        elif op == "insert":
            out.insert(where, value)
        elif op == "delete" and where < len(out):
            del out[where]
    return bytes(out)


@settings(max_examples=300, deadline=None)
@given(st.lists(MUTATION, min_size=1, max_size=4))
def test_fuzz_mutations_of_a_valid_event(mutations: list[tuple[str, int, int]]) -> None:
    parse_or_refuse(mutate(VALID, mutations))


# -- the stream splitter ------------------------------------------------------------------


SELF_CLOSING = b'<event uid="ping" type="t-x-c-t" time="2026-03-01T12:00:00Z"/>'
SECOND = event(uid="NATO-F16-07", cot_type="a-f-A-M-F").encode()
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
JUNK = b"\r\n-- keepalive --\n"
STREAM = DECLARATION + VALID + JUNK + SELF_CLOSING + b"\n" + DECLARATION + SECOND
EXPECTED = [VALID, SELF_CLOSING, SECOND]
EXPECTED_DROPPED = len(DECLARATION) + len(JUNK) + 1 + len(DECLARATION)


def run(splitter: Splitter, chunks: list[bytes]) -> list[bytes]:
    return [event for chunk in chunks for event in splitter.feed(chunk)]


def test_splitter_in_one_chunk() -> None:
    splitter = Splitter()
    assert run(splitter, [STREAM]) == EXPECTED
    assert splitter.dropped == EXPECTED_DROPPED
    assert splitter.buffer == b""
    tracks = [parse_event(e, PARTIES) for e in EXPECTED if e is not SELF_CLOSING]
    assert [t.uid for t in tracks] == ["RU-BEAR-01", "NATO-F16-07"]


def test_splitter_split_in_two_at_every_byte_boundary() -> None:
    for cut in range(len(STREAM) + 1):
        splitter = Splitter()
        assert run(splitter, [STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut
        assert splitter.dropped == EXPECTED_DROPPED, cut


def test_splitter_one_byte_at_a_time() -> None:
    splitter = Splitter()
    assert run(splitter, [STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED
    assert splitter.dropped == EXPECTED_DROPPED


def test_splitter_split_in_three_at_many_boundaries() -> None:
    for first in range(0, len(STREAM), 7):
        for second in range(first, len(STREAM) + 1, 13):
            splitter = Splitter()
            chunks = [STREAM[:first], STREAM[first:second], STREAM[second:]]
            assert run(splitter, chunks) == EXPECTED, (first, second)


def test_splitter_junk_only_is_dropped_and_counted() -> None:
    splitter = Splitter()
    assert run(splitter, [b"hello world, no events here\n" * 10]) == []
    assert splitter.dropped == 280
    assert splitter.buffer == b""
    assert run(splitter, [b"junk <eve"]) == []  # the tail may begin a split "<event"
    assert splitter.buffer == b"<eve"
    assert run(splitter, [VALID[4:]]) == [VALID]
    assert splitter.dropped == 285


def test_splitter_drops_an_unterminated_event_longer_than_the_limit() -> None:
    limit = len(VALID) + 10
    huge = b'<event uid="big" type="a-h-A"><detail>' + b"x" * limit
    splitter = Splitter(limit=limit)
    chunks = [huge[i : i + 10] for i in range(0, len(huge), 10)]
    assert run(splitter, chunks) == []
    assert len(splitter.buffer) <= limit
    assert splitter.oversized == 1
    # the stream goes on: the next event still comes through
    assert run(splitter, [b"</detail></event>\n", VALID]) == [VALID]
    assert splitter.dropped == len(huge) + len(b"</detail></event>\n")
    assert splitter.buffer == b""


def test_splitter_an_unterminated_event_within_the_limit_waits() -> None:
    splitter = Splitter(limit=len(VALID) + 10)
    assert run(splitter, [VALID[:-1]]) == []
    assert splitter.dropped == 0
    assert run(splitter, [VALID[-1:]]) == [VALID]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.lists(st.integers(1, 64), max_size=40))
def test_fuzz_splitter_never_raises_and_loses_no_byte(data: bytes, sizes: list[int]) -> None:
    splitter = Splitter(limit=256)
    chunks, at = [], 0
    for size in sizes:
        chunks.append(data[at : at + size])
        at += size
    chunks.append(data[at:])
    out = run(splitter, chunks)
    for piece in out:
        assert piece.startswith(b"<event")
        assert piece.endswith((b"</event>", b"/>"))
    # every byte fed was yielded, dropped or is still buffered
    assert sum(map(len, out)) + splitter.dropped + len(splitter.buffer) == len(data)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([VALID, SECOND, SELF_CLOSING, JUNK, DECLARATION, b"<", b"<event", b">"]),
        max_size=12,
    ),
    st.lists(st.integers(1, 97), max_size=30),
)
def test_fuzz_splitter_on_event_like_streams(parts: list[bytes], sizes: list[int]) -> None:
    data = b"".join(parts)
    splitter = Splitter()
    chunks, at = [], 0
    for size in sizes:
        chunks.append(data[at : at + size])
        at += size
    chunks.append(data[at:])
    out = run(splitter, chunks)
    assert sum(map(len, out)) + splitter.dropped + len(splitter.buffer) == len(data)
    for piece in out:
        parse_or_refuse(piece)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [VALID, SECOND, SELF_CLOSING, JUNK, b"<", b"<event", b"<event>", b">", b"/>"]
        ),
        max_size=16,
    ),
    st.lists(st.integers(1, 97), max_size=30),
)
def test_fuzz_splitter_chunks_do_not_change_the_events(
    parts: list[bytes], sizes: list[int]
) -> None:
    data = b"".join(parts)
    whole = Splitter()
    expected = whole.feed(data)
    splitter = Splitter()
    chunks, at = [], 0
    for size in sizes:
        chunks.append(data[at : at + size])
        at += size
    chunks.append(data[at:])
    assert run(splitter, chunks) == expected
    assert (splitter.dropped, splitter.buffer) == (whole.dropped, whole.buffer)


# -- the splitter's work is linear in its input ----------------------------------------------

MB = 1 << 20


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    "unit",
    [b"<event", b"<event>", b"<event uid='x'", b"<event/", b"</event>", b"<", b">", b"x"],
    ids=repr,
)
def test_the_splitter_scans_each_byte_a_few_times_at_most(unit: bytes) -> None:
    """A stream of tokens that each begin an event and never end it used to be scanned
    from the start of the buffer once per token (quadratic: ~26 s of CPU per MB)."""
    data = unit * (MB // len(unit))
    splitter = Splitter()
    assert run(splitter, chunked(data, 65536)) == []
    assert splitter.scanned <= 3 * len(data)
    assert splitter.dropped + len(splitter.buffer) == len(data)
    assert len(splitter.buffer) <= MAX_EVENT_BYTES


def test_an_event_arriving_a_byte_at_a_time_is_scanned_a_few_times_at_most() -> None:
    """An event within the limit but unfinished used to be searched from its start on
    every chunk: a large event sent a byte at a time cost its size squared."""
    big = event(detail="<detail>" + "x" * 60_000 + "</detail>").encode()
    splitter = Splitter()
    chunks = chunked(big, 1)
    assert run(splitter, chunks) == [big]
    # a search that found nothing resumes a needle's length back, for a split needle
    assert splitter.scanned <= 3 * len(big) + 2 * len(b"</event>") * len(chunks)


def test_good_events_around_garbage_are_still_cut_out() -> None:
    garbage = b"<event" * 50_000 + b"<event><event>" * 1000 + b"\x00\xff" * 1000
    stream = VALID + garbage + SECOND + garbage + SELF_CLOSING
    splitter = Splitter()
    assert run(splitter, chunked(stream, 4096)) == [VALID, SECOND, SELF_CLOSING]
    assert splitter.dropped == 2 * len(garbage)
    assert splitter.scanned <= 3 * len(stream)


def test_an_event_over_the_limit_is_dropped_and_counted_the_next_one_kept() -> None:
    limit = len(VALID) + 10
    large = event(detail="<detail>" + "x" * limit + "</detail>").encode()
    splitter = Splitter(limit=limit)
    assert splitter.feed(large + SECOND[:20]) == []  # over the limit though complete
    assert (splitter.oversized, splitter.pending) == (1, True)
    assert splitter.feed(SECOND[20:]) == [SECOND]
    assert (splitter.oversized, splitter.pending, splitter.events) == (1, False, 1)
    assert splitter.dropped == len(large)
